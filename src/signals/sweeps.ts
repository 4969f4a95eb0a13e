import { z } from "zod";
import type { Audio } from "../audio/audio.ts";
import { parseOptions } from "../core/options.ts";
import {
  applyFades,
  checkBelowNyquist,
  checkCommon,
  commonOptions,
  finishChannels,
  framesFor,
  type RefineContext,
  waveforms,
} from "./common.ts";
import { addBandLimited, sweepModes, sweepPhase } from "./oscillators.ts";

/** Options of `sweep`. */
export const sweepSchema = z
  .strictObject({
    ...commonOptions(10, {
      independent: "channel 2 sweeps the other way, endHz to startHz",
      seed: "unused: sweeps are deterministic",
    }),
    waveform: z.enum(waveforms).default("sine").describe("sine, triangle, square or sawtooth (band-limited)"),
    mode: z
      .enum(sweepModes)
      .default("exponential")
      .describe("linear (equal Hz per second) or exponential (equal time per octave)"),
    startHz: z.number().positive().default(20).describe("frequency at the start, Hz"),
    endHz: z
      .number()
      .positive()
      .optional()
      .describe(
        "frequency at the end, Hz; below startHz sweeps down (default 20000, capped at 0.45 x sampleRate)",
      ),
    fadeSeconds: z
      .number()
      .min(0)
      .default(0.01)
      .describe("raised-cosine fade in and out, seconds each (at most half the length)"),
  })
  .superRefine((options, ctx) => {
    checkCommon(options, ctx);
    checkSweepHz(options, 20000, ctx);
  });

export type SweepOptions = z.input<typeof sweepSchema>;

/**
 * endHz as given, or `defaultHz` capped at 0.45 x sampleRate when it is left out, so the default sweep
 * works at every sample rate (20 kHz at 48 kHz, 9.9 kHz at 22.05 kHz).
 */
export function resolveEndHz(
  options: { sampleRate: number; endHz?: number | undefined },
  defaultHz: number,
): number {
  return options.endHz ?? Math.min(defaultHz, 0.45 * options.sampleRate);
}

/** Cross-field check shared with chirps: both ends below Nyquist. */
export function checkSweepHz(
  options: { sampleRate: number; startHz: number; endHz?: number | undefined },
  defaultEndHz: number,
  ctx: RefineContext,
): void {
  checkBelowNyquist("startHz", options.startHz, options.sampleRate, ctx);
  checkBelowNyquist("endHz", resolveEndHz(options, defaultEndHz), options.sampleRate, ctx);
}

/**
 * A sine, triangle, square or sawtooth sweep, linear or exponential, up or down, band-limited (see
 * oscillators.ts: harmonics fade out between 0.8 and 0.95 of Nyquist, so a 20 Hz..20 kHz saw sweep does not
 * alias). The peak over the whole sweep equals `amplitude` (one gain for all of it; the Gibbs overshoot of
 * square and saw is inside that peak). Ends are faded over `fadeSeconds` so the sweep starts and stops
 * without a click. 10 s of a 20 Hz..20 kHz saw at 48 kHz renders in about 0.2 s.
 *
 *   sweep({ waveform: "sawtooth", startHz: 20, endHz: 20000, seconds: 10, sampleRate: 48000 })
 */
export function sweep(options: SweepOptions = {}): Audio {
  const o = parseOptions(sweepSchema, options, "sweep options");
  const frames = framesFor(o.seconds, o.sampleRate);
  const fade = Math.min(framesFor(o.fadeSeconds, o.sampleRate), Math.floor(frames / 2));
  const endHz = resolveEndHz(o, 20000);
  return finishChannels(o, (channel) => {
    const [from, to] = channel === 0 ? [o.startHz, endHz] : [endHz, o.startHz];
    const out = renderSweep(frames, from, to, o.mode, o.waveform, o.sampleRate);
    applyFades(out, fade, fade);
    return out;
  });
}

/** One unit-gain band-limited sweep of `frames` samples (no fades, no normalisation). */
export function renderSweep(
  frames: number,
  startHz: number,
  endHz: number,
  mode: z.output<typeof sweepSchema>["mode"],
  waveform: z.output<typeof sweepSchema>["waveform"],
  sampleRate: number,
): Float64Array {
  const phase = new Float64Array(frames);
  const frequencyHz = new Float64Array(frames);
  sweepPhase(phase, frequencyHz, startHz, endHz, mode, sampleRate);
  const out = new Float64Array(frames);
  addBandLimited(out, phase, frequencyHz, waveform, sampleRate, 1);
  return out;
}
