import { z } from "zod";
import {
  type BiquadCoefficients,
  type BiquadType,
  biquadCascade,
  biquadCoefficients,
  butterworthQs,
} from "../../dsp/biquad.ts";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { mapChannels, requireBelowNyquist } from "./common.ts";

/**
 * The RBJ cookbook filters (src/dsp/biquad.ts: Bristow-Johnson, "Cookbook formulae for audio EQ biquad
 * filter coefficients"; the same formulas as Web Audio's BiquadFilterNode), run causally in float64.
 * Frequencies are checked against the audio's Nyquist at render time. Latency 0: a filter's phase is its
 * character, not a processing delay.
 */

const qField = (describe: string, defaultQ = Math.SQRT1_2) =>
  z.number().min(0.05).max(50).default(defaultQ).describe(describe);

const frequencyField = (name: string, defaultHz: number) =>
  z.number().positive().default(defaultHz).describe(`${name}, Hz (below the audio's Nyquist frequency)`);

const gainField = (defaultDb: number, what: string) =>
  z.number().min(-48).max(48).default(defaultDb).describe(what);

/**
 * `order` 2, 4, 6 or 8 poles (12 dB/octave per 2). Order 2 is one RBJ section with Q = q; higher orders are
 * Butterworth cascades (butterworthQs) whose section Qs are all scaled by q / 0.7071, so the default q gives
 * a maximally flat response at -3 dB at the cutoff for every order.
 */
const passSchema = z.strictObject({
  cutoffHz: frequencyField("corner frequency (-3 dB with the default q)", 1000),
  q: qField("resonance: 0.7071 is Butterworth (flat), higher peaks at the cutoff"),
  order: z
    .literal([2, 4, 6, 8])
    .default(2)
    .describe("filter order 2, 4, 6 or 8: slope of 12, 24, 36 or 48 dB per octave"),
});

function passSections(
  type: "lowpass" | "highpass",
  o: z.output<typeof passSchema>,
  sampleRate: number,
): BiquadCoefficients[] {
  const scale = o.q / Math.SQRT1_2;
  return butterworthQs(o.order).map((q) =>
    biquadCoefficients({ type, frequencyHz: o.cutoffHz, sampleRate, q: q * scale }),
  );
}

function passEffect(type: "lowpass" | "highpass", description: string): AnyEffect {
  return defineEffect({
    name: type,
    engine: "builtin",
    description,
    schema: passSchema,
    async render(audio, o) {
      requireBelowNyquist(type, "cutoffHz", o.cutoffHz, audio.sampleRate);
      const sections = passSections(type, o, audio.sampleRate);
      return mapChannels(audio, (channel) => biquadCascade(channel, sections));
    },
  });
}

/** One RBJ section of `type` from a schema with frequencyHz, q and optionally gainDb. */
function sectionEffect<S extends z.ZodObject>(
  type: Exclude<BiquadType, "lowpass" | "highpass">,
  description: string,
  schema: S,
): AnyEffect {
  return defineEffect({
    name: type,
    engine: "builtin",
    description,
    schema,
    async render(audio, parameters) {
      const o = parameters as { frequencyHz: number; q: number; gainDb?: number };
      requireBelowNyquist(type, "frequencyHz", o.frequencyHz, audio.sampleRate);
      const section = biquadCoefficients({ type, sampleRate: audio.sampleRate, ...o });
      return mapChannels(audio, (channel) => biquadCascade(channel, [section]));
    },
  });
}

export const filterEffects: readonly AnyEffect[] = [
  passEffect("lowpass", "low-pass filter (RBJ biquad; Butterworth cascade for order > 2)"),
  passEffect("highpass", "high-pass filter (RBJ biquad; Butterworth cascade for order > 2)"),
  sectionEffect(
    "bandpass",
    "band-pass filter, 0 dB at its centre (RBJ biquad)",
    z.strictObject({
      frequencyHz: frequencyField("centre frequency", 1000),
      q: qField("centre frequency / bandwidth", 1),
    }),
  ),
  sectionEffect(
    "notch",
    "notch (band-reject) filter (RBJ biquad)",
    z.strictObject({
      frequencyHz: frequencyField("rejected frequency", 1000),
      q: qField("centre frequency / bandwidth of the notch", 1),
    }),
  ),
  sectionEffect(
    "peaking",
    "peaking EQ: boost or cut around a frequency (RBJ biquad)",
    z.strictObject({
      frequencyHz: frequencyField("centre frequency", 1000),
      q: qField("centre frequency / bandwidth", 1),
      gainDb: gainField(6, "gain at the centre frequency, dB (negative cuts)"),
    }),
  ),
  sectionEffect(
    "lowshelf",
    "low shelf: boost or cut below a frequency (RBJ biquad)",
    z.strictObject({
      frequencyHz: frequencyField("shelf midpoint (half the gain in dB)", 200),
      q: qField("shelf slope: 0.7071 is the steepest without overshoot (RBJ S = 1)"),
      gainDb: gainField(6, "gain well below the shelf, dB (negative cuts)"),
    }),
  ),
  sectionEffect(
    "highshelf",
    "high shelf: boost or cut above a frequency (RBJ biquad)",
    z.strictObject({
      frequencyHz: frequencyField("shelf midpoint (half the gain in dB)", 4000),
      q: qField("shelf slope: 0.7071 is the steepest without overshoot (RBJ S = 1)"),
      gainDb: gainField(6, "gain well above the shelf, dB (negative cuts)"),
    }),
  ),
];
