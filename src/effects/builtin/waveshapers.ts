import { z } from "zod";
import { makeAudio } from "../../audio/audio.ts";
import { resample } from "../../audio/resample.ts";
import { type AnyEffect, defineEffect } from "../effect.ts";
import { dbToGain, mapChannels, oversampleSchema } from "./common.ts";

/**
 * Static (memoryless) waveshapers y = outputGain * f(inputGain * x), run at `oversample` times the rate:
 * upsample with the windowed-sinc resampler, shape, downsample (the resampler's low-pass removes the
 * harmonics above the original Nyquist before they fold back). The resampler's kernel is symmetric and
 * centred on each output sample (zero phase), so oversampling adds no latency: latencySamples = 0 (checked
 * in the tests by cross-correlating a small-signal render with its input).
 *
 * Every curve has slope 1 at x = 0, so at low levels each shaper is a gain of gainDb + outputDb (the fuzz
 * only with bias 0).
 * The asymmetric ones (diode, fuzz) make DC; a DC blocker follows them, as the coupling capacitor after a
 * real clipping stage does.
 * Cost: the two resampling passes dominate; at 48 kHz mono a shaper runs ~700x real time at oversample 1,
 * ~17x at 2, ~8x at 4 (the default) and ~4x at 8.
 */

/** Fields every waveshaper has; `defaultGainDb` is the drive that suits the curve. */
function shaperFields(defaultGainDb: number) {
  return {
    gainDb: z
      .number()
      .min(-24)
      .max(72)
      .default(defaultGainDb)
      .describe("input drive, dB: the signal is multiplied by 10^(gainDb/20) before the curve"),
    outputDb: z.number().min(-72).max(24).default(0).describe("output level, dB, applied after the curve"),
    oversample: oversampleSchema,
  };
}

/** tanh: odd symmetric, only odd harmonics. */
export function tanhCurve(x: number): number {
  return Math.tanh(x);
}

/** Clips at +-1. */
export function hardClipCurve(x: number): number {
  return Math.min(1, Math.max(-1, x));
}

/**
 * The cubic soft clipper f(x) = x - x^3 / 3 for |x| <= 1, +-2/3 beyond (J. O. Smith, "Physical Audio
 * Signal Processing", section "Cubic Soft Clipper"): smooth at the knee, saturates at 2/3.
 */
export function cubicCurve(x: number): number {
  if (x >= 1) return 2 / 3;
  if (x <= -1) return -2 / 3;
  return x - (x * x * x) / 3;
}

/** Negative half-wave level of the diode curve, relative to the positive one (1). */
const DIODE_NEGATIVE_LIMIT = 0.5;

/**
 * Asymmetric exponential diode clipper. A diode's current follows Shockley's law I = Is (e^(V / (n Vt)) - 1):
 * nothing, then an exponential knee. Clipping against it gives the saturating exponential
 * f(x) = 1 - e^(-x) for x >= 0 and f(x) = -L (1 - e^(x / L)) for x < 0, with L = 0.5: the negative half
 * clips at half the level (as with unequal diode strings: one silicon diode one way, a lower-threshold
 * one the other). f is C1 at 0 (slope 1 from both sides) but its curvature differs: even harmonics.
 */
export function diodeCurve(x: number): number {
  return x >= 0 ? 1 - Math.exp(-x) : -DIODE_NEGATIVE_LIMIT * (1 - Math.exp(x / DIODE_NEGATIVE_LIMIT));
}

/** Negative saturation level of the fuzz curve (the positive one is 1). */
const FUZZ_NEGATIVE_LIMIT = 0.6;

/**
 * The fuzz's clipping curve: s(u) = tanh(u) for u >= 0 and L tanh(u / L) for u < 0 (L = 0.6), so the two
 * half-waves saturate at different levels. The fuzz effect runs y = s(g (x + bias)) - s(g bias): a
 * transistor stage biased off centre, as a static asymmetric waveshaper (the biased static nonlinearity of
 * tube and transistor stage models, Pakarinen & Yeh, "A Review of Digital Techniques for Modeling
 * Vacuum-Tube Guitar Amplifiers", Computer Music Journal 33(2), 2009). The bias is an input-referred offset:
 * at high gain every saturating curve turns a sine into a square, and only a threshold offset from the
 * signal's zero keeps it asymmetric (an uneven duty cycle: even harmonics at every gain); signals much
 * smaller than the bias see the curve's shallow slope at g bias and come out quieter (the sputtery gating
 * of a starved fuzz). Subtracting s(g bias) keeps silence silent; the DC blocker removes the rest.
 */
export function fuzzCurve(u: number): number {
  return u >= 0 ? Math.tanh(u) : FUZZ_NEGATIVE_LIMIT * Math.tanh(u / FUZZ_NEGATIVE_LIMIT);
}

/** High-pass corner of the DC blocker after the asymmetric shapers, Hz. */
const DC_BLOCK_HZ = 10;

/**
 * One-pole DC blocker y[n] = x[n] - x[n-1] + R y[n-1], R = e^(-2 pi fc / fs) (J. O. Smith, "Introduction to
 * Digital Filters", "DC Blocker"), in place.
 */
function blockDc(signal: Float32Array, sampleRate: number): void {
  const r = Math.exp((-2 * Math.PI * DC_BLOCK_HZ) / sampleRate);
  let x1 = 0;
  let y1 = 0;
  for (let n = 0; n < signal.length; n++) {
    const x = signal[n]!;
    const y = x - x1 + r * y1;
    x1 = x;
    y1 = y;
    signal[n] = y;
  }
}

/**
 * y = outputGain * curve(inputGain * x + offset) - outputGain * curve(offset), evaluated at
 * `factor` x the rate of `channel`.
 */
export function shape(
  channel: Float32Array,
  sampleRate: number,
  curve: (x: number) => number,
  inputGain: number,
  outputGain: number,
  factor: number,
  offset = 0,
): Float32Array {
  const rest = curve(offset);
  const run = (signal: Float32Array): Float32Array => {
    for (let n = 0; n < signal.length; n++) {
      signal[n] = outputGain * (curve(inputGain * signal[n]! + offset) - rest);
    }
    return signal;
  };
  if (factor === 1) return run(Float32Array.from(channel));
  const up = resample(makeAudio(sampleRate, [channel]), sampleRate * factor);
  const shaped = run(Float32Array.from(up.channels[0]!));
  return resample(makeAudio(sampleRate * factor, [shaped]), sampleRate).channels[0]!;
}

function shaperEffect(
  name: string,
  description: string,
  curve: (x: number) => number,
  defaultGainDb: number,
  asymmetric: boolean,
): AnyEffect {
  return defineEffect({
    name,
    engine: "builtin",
    description,
    schema: z.strictObject(shaperFields(defaultGainDb)),
    async render(audio, o) {
      return mapChannels(audio, (channel) => {
        const out = shape(
          channel,
          audio.sampleRate,
          curve,
          dbToGain(o.gainDb),
          dbToGain(o.outputDb),
          o.oversample,
        );
        if (asymmetric) blockDc(out, audio.sampleRate);
        return out;
      });
    },
  });
}

const fuzzSchema = z.strictObject({
  ...shaperFields(30),
  bias: z
    .number()
    .min(-0.5)
    .max(0.5)
    .default(0.05)
    .describe(
      "offset added to the input before the drive, full-scale units: uneven duty cycle (even harmonics); quieter signals are gated",
    ),
});

export const waveshaperEffects: readonly AnyEffect[] = [
  shaperEffect("drive", "tanh saturation (odd harmonics), oversampled", tanhCurve, 12, false),
  shaperEffect("hardclip", "hard clipping at +-1 after the drive, oversampled", hardClipCurve, 12, false),
  shaperEffect(
    "softclip",
    "cubic soft clipper x - x^3/3 (saturates at 2/3), oversampled",
    cubicCurve,
    12,
    false,
  ),
  shaperEffect(
    "diode",
    "asymmetric exponential (Shockley-like) diode clipper: even and odd harmonics",
    diodeCurve,
    12,
    true,
  ),
  defineEffect({
    name: "fuzz",
    engine: "builtin",
    description: "high-gain biased asymmetric transistor-style clipper (fuzz), oversampled",
    schema: fuzzSchema,
    async render(audio, o) {
      return mapChannels(audio, (channel) => {
        const out = shape(
          channel,
          audio.sampleRate,
          fuzzCurve,
          dbToGain(o.gainDb),
          dbToGain(o.outputDb),
          o.oversample,
          dbToGain(o.gainDb) * o.bias,
        );
        blockDc(out, audio.sampleRate);
        return out;
      });
    },
  }),
];
