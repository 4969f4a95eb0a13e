import { z } from "zod";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { mapChannels, requireBelowNyquist } from "./common.ts";

export const lfoShapes = ["sine", "triangle", "square"] as const;
export type LfoShape = (typeof lfoShapes)[number];

const tremoloSchema = z.strictObject({
  rateHz: z.number().positive().max(1000).default(5).describe("modulation frequency, Hz"),
  depth: z.number().min(0).max(1).default(0.5).describe("0..1: the gain swings between 1 - depth and 1"),
  shape: z.enum(lfoShapes).default("sine").describe("LFO waveform: sine, triangle or square"),
  phaseDeg: z
    .number()
    .min(0)
    .max(360)
    .default(0)
    .describe("LFO start phase, degrees (0: gain halfway and rising for sine and triangle, high for square)"),
});

/**
 * LFO value in [-1, 1] at `phase` cycles (any real number): sine sin(2 pi p), triangle rising through 0 at
 * p = 0 with peaks at p = 1/4 and 3/4, square +1 for the first half of each cycle and -1 for the second.
 */
export function lfo(shape: LfoShape, phase: number): number {
  const p = phase - Math.floor(phase); // [0, 1)
  switch (shape) {
    case "sine":
      return Math.sin(2 * Math.PI * p);
    case "triangle":
      return p < 0.25 ? 4 * p : p < 0.75 ? 2 - 4 * p : 4 * p - 4;
    case "square":
      return p < 0.5 ? 1 : -1;
  }
}

/**
 * Amplitude modulation: y[n] = x[n] g[n], g[n] = 1 - depth/2 + (depth/2) lfo(rateHz n / fs + phaseDeg/360),
 * so g spans [1 - depth, 1]. All channels share the LFO (in phase). The square is not smoothed (its steps
 * click, as a hard-switched tremolo does).
 */
export const tremoloEffect: AnyEffect = defineEffect({
  name: "tremolo",
  engine: "builtin",
  description: "amplitude modulation by a sine, triangle or square LFO",
  schema: tremoloSchema,
  async render(audio, o) {
    requireBelowNyquist("tremolo", "rateHz", o.rateHz, audio.sampleRate);
    const frames = audio.channels[0]!.length;
    const gain = new Float64Array(frames);
    const start = o.phaseDeg / 360;
    const cyclesPerSample = o.rateHz / audio.sampleRate;
    for (let n = 0; n < frames; n++) {
      gain[n] = 1 - o.depth / 2 + (o.depth / 2) * lfo(o.shape, start + n * cyclesPerSample);
    }
    return mapChannels(audio, (channel) => channel.map((x, n) => x * gain[n]!));
  },
});
