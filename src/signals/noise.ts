import { z } from "zod";
import type { Audio } from "../audio/audio.ts";
import { makeAudio } from "../audio/audio.ts";
import { OptionError } from "../core/errors.ts";
import { parseOptions } from "../core/options.ts";
import { deriveSeed, Rng } from "../core/rng.ts";
import { checkCommon, commonOptions, framesFor, toFloat32 } from "./common.ts";

export const noiseColors = ["white", "pink"] as const;
export const noiseDistributions = ["gaussian", "uniform"] as const;
export const amplitudeMeasures = ["peak", "rms"] as const;

/** Options of `noise`. */
export const noiseSchema = z
  .strictObject({
    ...commonOptions(10, {
      independent: "each channel draws from its own seeded stream",
      seed: "picks the noise stream",
      amplitude: "level, linear full scale: the peak or the RMS, see amplitudeMeasure",
    }),
    color: z.enum(noiseColors).default("white").describe("white (flat) or pink (-3 dB per octave)"),
    distribution: z
      .enum(noiseDistributions)
      .default("gaussian")
      .describe("distribution of the white source: gaussian or uniform"),
    amplitudeMeasure: z
      .enum(amplitudeMeasures)
      .default("peak")
      .describe("what amplitude sets: the peak |sample| or the RMS"),
  })
  .superRefine((options, ctx) => checkCommon(options, ctx));

export type NoiseOptions = z.input<typeof noiseSchema>;

/**
 * White or pink noise from the seeded generator (xoshiro128**), one independent stream per channel with
 * `stereo: "independent"` (streams `deriveSeed(seed, "noise", channel)`).
 *
 * white: uniform on [-1, 1) or standard gaussian samples, flat spectrum.
 * pink:  that white source through Paul Kellet's "refined" pinking filter (music-dsp source code archive,
 *        "Filter to make pink noise from white", 1999): six one-pole sections in parallel plus a direct and a
 *        one-sample-delayed term, within +-0.05 dB of -3 dB/octave from 9.2 Hz (at 44.1 kHz; the fixed
 *        coefficients scale with the rate, so 10 Hz at 48 kHz) up to Nyquist. The filter runs on 16384
 *        discarded samples first so the output starts in steady state (its slowest pole, 0.99886, settles
 *        in ~900 samples).
 *
 * Level, per channel: with `amplitudeMeasure: "peak"` the largest |sample| equals `amplitude` (gaussian
 * noise then has an RMS near amplitude / 5 for a few seconds of audio); with "rms" the RMS equals
 * `amplitude`, and an OptionError is thrown if that pushes a peak above 1 (full scale).
 */
export function noise(options: NoiseOptions = {}): Audio {
  const o = parseOptions(noiseSchema, options, "noise options");
  const frames = framesFor(o.seconds, o.sampleRate);
  const channels: Float32Array[] = [];
  for (let c = 0; c < o.channels; c++) {
    if (c > 0 && o.stereo === "identical") {
      channels.push(channels[0]!.slice());
      continue;
    }
    const rendered = renderNoise(frames, o.color, o.distribution, deriveSeed(o.seed, "noise", c));
    let peak = 0;
    let sumSquares = 0;
    for (let i = 0; i < frames; i++) {
      peak = Math.max(peak, Math.abs(rendered[i]!));
      sumSquares += rendered[i]! * rendered[i]!;
    }
    const gain =
      o.amplitudeMeasure === "peak" ? o.amplitude / peak : o.amplitude / Math.sqrt(sumSquares / frames);
    if (peak * gain > 1) {
      throw new OptionError(
        "options/invalid",
        `noise options: amplitude: an RMS of ${o.amplitude} puts peaks at ${(peak * gain).toFixed(3)}, above full scale (1); lower amplitude or use amplitudeMeasure "peak"`,
      );
    }
    channels.push(toFloat32(rendered, gain));
  }
  return makeAudio(o.sampleRate, channels);
}

/** Unscaled noise: `frames` samples of the given color and source distribution from `seed`. */
export function renderNoise(
  frames: number,
  color: (typeof noiseColors)[number],
  distribution: (typeof noiseDistributions)[number],
  seed: number,
): Float64Array {
  const rng = new Rng(seed);
  const white = distribution === "gaussian" ? () => rng.normal() : () => rng.uniform(-1, 1);
  const out = new Float64Array(frames);
  if (color === "white") {
    for (let n = 0; n < frames; n++) out[n] = white();
    return out;
  }
  // Kellet's refined pinking filter: b_i = p_i b_i + g_i w, pink = sum b_i + 0.5362 w + 0.115926 w[n-1].
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let b4 = 0;
  let b5 = 0;
  let b6 = 0;
  const warmUp = 16384;
  for (let n = -warmUp; n < frames; n++) {
    const w = white();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    const pink = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
    if (n >= 0) out[n] = pink;
  }
  return out;
}
