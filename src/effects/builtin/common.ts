import { z } from "zod";
import { type Audio, makeAudio } from "../../audio/audio.ts";
import { OptionError } from "../../core/errors.ts";
import type { RenderResult } from "../effect.ts";

/** dB -> linear amplitude: 10^(dB / 20). */
export function dbToGain(db: number): number {
  return 10 ** (db / 20);
}

/** Applies `process` to every channel (same parameters, independent state) and wraps the result. */
export function mapChannels(
  audio: Audio,
  process: (channel: Float32Array, index: number) => Float32Array,
  latencySamples = 0,
): RenderResult {
  return { audio: makeAudio(audio.sampleRate, audio.channels.map(process)), latencySamples };
}

/**
 * Frequencies can only be checked against Nyquist once the audio's rate is known, at render time: throws
 * an OptionError naming the effect and the field, e.g.
 * `lowpass parameters: cutoffHz: must be below Nyquist (22050 Hz at 44100 Hz), got 30000`.
 */
export function requireBelowNyquist(effect: string, field: string, hz: number, sampleRate: number): void {
  const nyquistHz = sampleRate / 2;
  if (hz >= nyquistHz) {
    throw new OptionError(
      "options/invalid",
      `${effect} parameters: ${field}: must be below Nyquist (${nyquistHz} Hz at ${sampleRate} Hz), got ${hz}`,
    );
  }
}

/** Oversampling factors of the waveshapers. */
export const oversampleSchema = z
  .literal([1, 2, 4, 8])
  .default(4)
  .describe("oversampling factor 1, 2, 4 or 8: the shaper runs at this multiple of the rate (less aliasing)");

/** dry/wet crossfade shared by delay, echo and the reverbs: out = (1 - mix) dry + mix wet. */
export function mixSchema(defaultMix: number) {
  return z
    .number()
    .min(0)
    .max(1)
    .default(defaultMix)
    .describe("dry/wet balance 0..1: output = (1 - mix) * input + mix * effect");
}

/** One-pole low-pass coefficient a for y += a (x - y) with a -3 dB-ish corner at `cutoffHz`: a = 1 - e^(-2 pi fc / fs). */
export function onePoleCoefficient(cutoffHz: number, sampleRate: number): number {
  return 1 - Math.exp((-2 * Math.PI * cutoffHz) / sampleRate);
}
