import { z } from "zod";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { mapChannels, mixSchema, onePoleCoefficient, requireBelowNyquist } from "./common.ts";

interface DelayDefaults {
  timeMs: number;
  feedback: number;
  mix: number;
  dampingHz: number;
}

function delaySchema(d: DelayDefaults) {
  return z.strictObject({
    timeMs: z
      .number()
      .min(0.1)
      .max(10000)
      .default(d.timeMs)
      .describe("delay time, ms (rounded to the nearest sample, at least one)"),
    feedback: z
      .number()
      .min(0)
      .max(0.95)
      .default(d.feedback)
      .describe("0..0.95: each repeat's amplitude relative to the one before"),
    mix: mixSchema(d.mix),
    dampingHz: z
      .number()
      .min(0)
      .default(d.dampingHz)
      .describe(
        "corner of a one-pole low-pass in the feedback loop, Hz; 0 = no damping (repeats stay bright)",
      ),
  });
}

type DelayOptions = z.output<ReturnType<typeof delaySchema>>;

/** The delay time in whole samples: round(timeMs * fs / 1000), at least 1. */
export function delaySamples(timeMs: number, sampleRate: number): number {
  return Math.max(1, Math.round((timeMs * sampleRate) / 1000));
}

/**
 * Feedback delay line (a feedback comb), per channel, D = delaySamples(timeMs):
 *   w[n] = x[n] + feedback * LP(w[n - D]);  wet[n] = w[n - D];  y[n] = (1 - mix) x[n] + mix wet[n]
 * LP is y += a (x - y) with a = 1 - e^(-2 pi dampingHz / fs) (identity when dampingHz = 0), so the first
 * echo is the clean input and each later one is low-passed once more. An impulse gives echoes of
 * mix * feedback^(k-1) at k D samples. Tails past the input's end are cut. Latency 0 (the delay is the effect).
 */
export function feedbackDelay(channel: Float32Array, sampleRate: number, o: DelayOptions): Float32Array {
  const d = delaySamples(o.timeMs, sampleRate);
  const a = o.dampingHz > 0 ? onePoleCoefficient(o.dampingHz, sampleRate) : 1;
  const line = new Float64Array(d); // w[n - D .. n - 1], circular
  const out = new Float32Array(channel.length);
  let lowpass = 0;
  let index = 0;
  for (let n = 0; n < channel.length; n++) {
    const x = channel[n]!;
    const wet = line[index]!;
    lowpass += a * (wet - lowpass);
    line[index] = x + o.feedback * lowpass;
    index = index + 1 === d ? 0 : index + 1;
    out[n] = (1 - o.mix) * x + o.mix * wet;
  }
  return out;
}

function delayEffect(name: string, description: string, defaults: DelayDefaults): AnyEffect {
  return defineEffect({
    name,
    engine: "builtin",
    description,
    schema: delaySchema(defaults),
    async render(audio, o) {
      if (o.dampingHz > 0) requireBelowNyquist(name, "dampingHz", o.dampingHz, audio.sampleRate);
      return mapChannels(audio, (channel) => feedbackDelay(channel, audio.sampleRate, o));
    },
  });
}

export const delayEffects: readonly AnyEffect[] = [
  delayEffect("delay", "clean digital feedback delay", {
    timeMs: 250,
    feedback: 0.3,
    mix: 0.5,
    dampingHz: 0,
  }),
  delayEffect("echo", "echo with repeats darkened by a low-pass in the feedback loop (tape-like)", {
    timeMs: 350,
    feedback: 0.45,
    mix: 0.35,
    dampingHz: 3000,
  }),
];
