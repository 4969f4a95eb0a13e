import { Rng } from "../../../src/core/rng.ts";
import { RealFft } from "../../../src/dsp/fft.ts";
import { webAudioEffects } from "../../../src/effects/webaudio/effects.ts";
import { createNodeContext } from "../../../src/node/webaudio.ts";
import { renderersFor } from "../builtin/helpers.ts";

export { db, impulse, RATES, rmsOf, sine, toneAmplitude } from "../builtin/helpers.ts";

export const effects = webAudioEffects(createNodeContext);

export const { render, renderMono } = renderersFor(effects);

/** Gaussian noise with standard deviation `level`, seeded. */
export function noise(frames: number, seed: number, level = 0.1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: frames }, () => level * rng.normal());
}

/** A tone plus noise, different per channel, with a silent last fifth (room for tails). */
export function material(sampleRate: number, channels: number, seconds = 0.25): Float32Array[] {
  const frames = Math.round(seconds * sampleRate);
  return Array.from({ length: channels }, (_, c) => {
    const rng = new Rng(c + 11);
    return Float32Array.from({ length: frames }, (_, n) =>
      n < 0.8 * frames
        ? 0.4 * Math.sin((2 * Math.PI * 220 * (c + 1) * n) / sampleRate) + 0.1 * rng.normal()
        : 0,
    );
  });
}

export function maxAbsDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  start = 0,
  end = a.length,
): number {
  let max = 0;
  for (let n = start; n < end; n++) max = Math.max(max, Math.abs(a[n]! - b[n]!));
  return max;
}

/**
 * Harmonic analysis of a steady periodic signal whose fundamental sits exactly on bin `bin` of an
 * `fftSize`-point FFT of x[start, start + fftSize) (rectangular window: every harmonic and every alias of
 * one lands on a bin, so nothing leaks). Returns the amplitude of each harmonic below Nyquist and the
 * fraction of power (dB) in bins that are not harmonics: the aliasing.
 */
export function harmonics(
  x: Float32Array,
  bin: number,
  fftSize: number,
  start: number,
): { amplitudes: number[]; aliasDb: number } {
  const fft = new RealFft(fftSize);
  const spectrum = new Float64Array(fftSize + 2);
  fft.forward(spectrum, Float64Array.from(x.subarray(start, start + fftSize)));
  const amplitude = (k: number) => (2 / fftSize) * Math.hypot(spectrum[2 * k]!, spectrum[2 * k + 1]!);
  const amplitudes: number[] = [];
  for (let h = 1; h * bin < fftSize / 2; h++) amplitudes.push(amplitude(h * bin));
  let total = 0;
  let alias = 0;
  for (let k = 1; k < fftSize / 2; k++) {
    const power = amplitude(k) ** 2;
    total += power;
    if (k % bin !== 0) alias += power;
  }
  return { amplitudes, aliasDb: 10 * Math.log10(alias / total) };
}

/** Direct-form convolution in float64, cut to x's length: y[n] = sum_k h[k] x[n - k]. */
export function convolve(x: Float32Array, h: Float32Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let n = 0; n < x.length; n++) {
    const xn = x[n]!;
    if (xn === 0) continue;
    const end = Math.min(h.length, x.length - n);
    for (let k = 0; k < end; k++) y[n + k]! += xn * h[k]!;
  }
  return y;
}

/** The message of an error thrown by `run` (fails when nothing is thrown). */
export async function errorOf(run: () => Promise<unknown> | unknown): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}
