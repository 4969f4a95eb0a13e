import { z } from "zod";
import { type Audio, makeAudio } from "../audio/audio.ts";
import { parseOptions } from "../core/options.ts";
import {
  applyFades,
  checkCommon,
  commonOptions,
  finishChannels,
  framesFor,
  type RefineContext,
  toFloat32,
  waveforms,
} from "./common.ts";
import { sweepModes } from "./oscillators.ts";
import { checkSweepHz, renderSweep, resolveEndHz } from "./sweeps.ts";

/** Audio plus where its blips are: `markers[channel]` lists, in increasing order, the sample indices at
 * which that channel's blips peak. */
export interface MarkedAudio extends Audio {
  readonly markers: readonly (readonly number[])[];
}

/** Options of `chirps`. */
export const chirpsSchema = z
  .strictObject({
    ...commonOptions(5, {
      independent: "channel 2 chirps the other way, endHz to startHz",
      seed: "unused: chirps are deterministic",
    }),
    waveform: z.enum(waveforms).default("sine").describe("sine, triangle, square or sawtooth (band-limited)"),
    mode: z.enum(sweepModes).default("exponential").describe("linear or exponential frequency law"),
    startHz: z.number().positive().default(100).describe("frequency at the start of each chirp, Hz"),
    endHz: z
      .number()
      .positive()
      .optional()
      .describe("frequency at the end of each chirp, Hz (default 10000, capped at 0.45 x sampleRate)"),
    chirpSeconds: z.number().positive().default(0.05).describe("length of one chirp, seconds"),
    gapSeconds: z.number().min(0).default(0.2).describe("silence after each chirp, seconds"),
    fadeSeconds: z
      .number()
      .min(0)
      .default(0.002)
      .describe("raised-cosine fade at both ends of each chirp, seconds (at most half a chirp)"),
  })
  .superRefine((options, ctx) => {
    checkCommon(options, ctx);
    checkSweepHz(options, 10000, ctx);
    if (options.chirpSeconds > options.seconds) {
      ctx.addIssue({
        code: "custom",
        path: ["chirpSeconds"],
        message: `expected <= seconds (${options.seconds})`,
      });
    }
  });

export type ChirpsOptions = z.input<typeof chirpsSchema>;

/**
 * Short band-limited sweeps (default 50 ms, 100 Hz..10 kHz, exponential) repeated every
 * chirpSeconds + gapSeconds from sample 0; only whole chirps are placed, the rest is silence. Each chirp is
 * faded in and out over `fadeSeconds`. Peak equals `amplitude`. Chirp i starts at sample
 * round(i * (chirpSeconds + gapSeconds) * sampleRate).
 */
export function chirps(options: ChirpsOptions = {}): Audio {
  const o = parseOptions(chirpsSchema, options, "chirps options");
  const frames = framesFor(o.seconds, o.sampleRate);
  const chirpFrames = framesFor(o.chirpSeconds, o.sampleRate);
  const fade = Math.min(framesFor(o.fadeSeconds, o.sampleRate), Math.floor(chirpFrames / 2));
  const endHz = resolveEndHz(o, 10000);
  return finishChannels(o, (channel) => {
    const [from, to] = channel === 0 ? [o.startHz, endHz] : [endHz, o.startHz];
    const one = renderSweep(chirpFrames, from, to, o.mode, o.waveform, o.sampleRate);
    applyFades(one, fade, fade);
    const out = new Float64Array(frames);
    for (let i = 0; ; i++) {
      const start = framesFor(i * (o.chirpSeconds + o.gapSeconds), o.sampleRate);
      if (start + chirpFrames > frames) break;
      out.set(one, start);
    }
    return out;
  });
}

/** Options of `blips`. */
export const blipsSchema = z
  .strictObject({
    ...commonOptions(2, {
      independent: "channel 2's blips fall halfway between channel 1's",
      seed: "unused: blips are deterministic",
    }),
    firstSeconds: z.number().min(0).default(0.25).describe("time of the first blip's peak, seconds"),
    spacingSeconds: z.number().positive().default(0.5).describe("time between blips, seconds"),
    widthSeconds: z
      .number()
      .min(0)
      .default(0)
      .describe("0 for single-sample impulses, else the width of a Hann-shaped click, seconds"),
  })
  .superRefine((options, ctx) => {
    checkCommon(options, ctx);
    checkBlipsFit(options, ctx);
  });

export type BlipsOptions = z.input<typeof blipsSchema>;

function checkBlipsFit(
  options: {
    sampleRate: number;
    seconds: number;
    firstSeconds: number;
    spacingSeconds: number;
    widthSeconds: number;
  },
  ctx: RefineContext,
): void {
  if (options.widthSeconds >= options.spacingSeconds) {
    ctx.addIssue({
      code: "custom",
      path: ["widthSeconds"],
      message: `expected less than spacingSeconds (${options.spacingSeconds}) so blips do not overlap`,
    });
  }
  const half = blipHalfWidth(options.widthSeconds, options.sampleRate);
  const first = framesFor(options.firstSeconds, options.sampleRate);
  if (first - half < 0 || first + half >= framesFor(options.seconds, options.sampleRate)) {
    ctx.addIssue({
      code: "custom",
      path: ["firstSeconds"],
      message: `expected the first blip (width ${options.widthSeconds} s) to fit inside 0..${options.seconds} s`,
    });
  }
}

/** Half the blip's length in samples: the blip covers marker - h .. marker + h. */
function blipHalfWidth(widthSeconds: number, sampleRate: number): number {
  return Math.floor(framesFor(widthSeconds, sampleRate) / 2);
}

/**
 * Blips for latency measurement: single-sample impulses (widthSeconds 0) or Hann-shaped clicks of
 * `widthSeconds`, one every `spacingSeconds` starting at `firstSeconds`, as many as fit whole. Every blip
 * peaks at exactly `amplitude` on a marker sample; `markers[channel]` lists those samples
 * (round((firstSeconds + i * spacingSeconds) * sampleRate); with independent stereo channel 2's are
 * shifted by round(spacingSeconds / 2 * sampleRate)).
 */
export function blips(options: BlipsOptions = {}): MarkedAudio {
  const o = parseOptions(blipsSchema, options, "blips options");
  const frames = framesFor(o.seconds, o.sampleRate);
  const half = blipHalfWidth(o.widthSeconds, o.sampleRate);
  const markers: number[][] = [];
  const channels: Float32Array[] = [];
  for (let c = 0; c < o.channels; c++) {
    const offset = c > 0 && o.stereo === "independent" ? o.spacingSeconds / 2 : 0;
    const positions: number[] = [];
    for (let i = 0; ; i++) {
      const marker = framesFor(o.firstSeconds + offset + i * o.spacingSeconds, o.sampleRate);
      if (marker + half >= frames) break;
      positions.push(marker);
    }
    const out = new Float64Array(frames);
    addBlips(out, positions, half, 1);
    markers.push(positions);
    channels.push(toFloat32(out, o.amplitude));
  }
  return { ...makeAudio(o.sampleRate, channels), markers };
}

/**
 * Adds `gain`-high blips peaking at each marker: a single sample when halfWidth is 0, else a Hann pulse
 * 0.5 - 0.5 cos(2 pi (j + 1) / (2 h + 2)), j = 0..2h, which is 1 at the marker (j = h).
 */
export function addBlips(
  out: Float64Array,
  markers: readonly number[],
  halfWidth: number,
  gain: number,
): void {
  for (const marker of markers) {
    for (let j = 0; j <= 2 * halfWidth; j++) {
      out[marker - halfWidth + j]! +=
        gain * (0.5 - 0.5 * Math.cos((2 * Math.PI * (j + 1)) / (2 * halfWidth + 2)));
    }
  }
}

/** Options of `silence`. */
export const silenceSchema = z
  .strictObject({
    ...commonOptions(1, {
      independent: "unused: silence",
      seed: "unused: silence",
      amplitude: "unused: silence",
    }),
  })
  .superRefine((options, ctx) => checkCommon(options, ctx));

export type SilenceOptions = z.input<typeof silenceSchema>;

/** Digital silence (all samples 0) of `seconds`. It takes the common options so every kind shares them. */
export function silence(options: SilenceOptions = {}): Audio {
  const o = parseOptions(silenceSchema, options, "silence options");
  return finishChannels(o, () => new Float64Array(framesFor(o.seconds, o.sampleRate)));
}
