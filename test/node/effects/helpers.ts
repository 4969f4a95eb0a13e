import assert from "node:assert/strict";
import { type Audio, makeAudio } from "../../../src/audio/audio.ts";
import { parseOptions } from "../../../src/core/options.ts";
import { Rng } from "../../../src/core/rng.ts";
import type { AnyEffect, RenderResult } from "../../../src/effects/effect.ts";

/** Helpers shared by the external-engine tests: signals, measurements, rendering with parameter parsing. */

export const RATES = [44100, 48000, 96000] as const;

/** Renders `effect` with `parameters` validated and completed by its schema (as a chain would). */
export async function render(
  effect: AnyEffect,
  audio: Audio,
  parameters: Record<string, unknown> = {},
): Promise<RenderResult> {
  return effect.render(audio, parseOptions(effect.schema, parameters, `${effect.name} parameters`));
}

/** A sine of `amplitude` at `hz`, `seconds` long. */
export function sine(sampleRate: number, hz: number, seconds: number, amplitude = 0.5): Float32Array {
  const frames = Math.round(seconds * sampleRate);
  return Float32Array.from(
    { length: frames },
    (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / sampleRate),
  );
}

/** Seeded Gaussian noise with standard deviation `level`. */
export function noise(frames: number, seed: number, level = 0.1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: frames }, () => level * rng.normal());
}

/** A unit-ish impulse of `amplitude` at `atSeconds` in `seconds` of silence. */
export function impulse(
  sampleRate: number,
  seconds: number,
  atSeconds: number,
  amplitude = 0.5,
): Float32Array {
  const x = new Float32Array(Math.round(seconds * sampleRate));
  x[Math.round(atSeconds * sampleRate)] = amplitude;
  return x;
}

/**
 * Test material: a 220 Hz sine with its 3rd harmonic and a noise burst, then 30% silence (a tail can ring
 * there). Mono, `seconds` long.
 */
export function material(sampleRate: number, seconds = 0.5): Float32Array {
  const frames = Math.round(seconds * sampleRate);
  const x = noise(frames, 7, 0.05);
  for (let n = 0; n < frames; n++) {
    const t = n / sampleRate;
    x[n] =
      n < 0.7 * frames
        ? x[n]! + 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.1 * Math.sin(2 * Math.PI * 660 * t)
        : 0;
  }
  return x;
}

export function mono(sampleRate: number, samples: Float32Array): Audio {
  return makeAudio(sampleRate, [samples]);
}

/** Root mean square of samples [start, end). */
export function rmsOf(x: Float32Array, start = 0, end = x.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += x[i]! * x[i]!;
  return end > start ? Math.sqrt(sum / (end - start)) : 0;
}

export function db(linear: number): number {
  return 20 * Math.log10(linear);
}

/**
 * Amplitude of the component at `hz` in samples [start, start + frames): projection on sin and cos (exact for
 * a whole number of periods in the window, leakage-free enough otherwise with a Hann window).
 */
export function toneAmplitude(
  x: Float32Array,
  sampleRate: number,
  hz: number,
  start: number,
  frames: number,
): number {
  let re = 0;
  let im = 0;
  let weight = 0;
  for (let i = 0; i < frames; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / frames);
    const phase = (2 * Math.PI * hz * (start + i)) / sampleRate;
    re += w * x[start + i]! * Math.cos(phase);
    im += w * x[start + i]! * Math.sin(phase);
    weight += w;
  }
  return (2 * Math.hypot(re, im)) / weight;
}

/**
 * Harmonic content of a steady sine response: amplitudes of harmonics 2..`highest` relative to the
 * fundamental, as a power ratio in dB (like THD), over the window [start, start + frames).
 */
export function harmonicsDb(
  x: Float32Array,
  sampleRate: number,
  fundamentalHz: number,
  start: number,
  frames: number,
  which: "all" | "even" | "odd" = "all",
  highest = 10,
): number {
  const fundamental = toneAmplitude(x, sampleRate, fundamentalHz, start, frames);
  let power = 0;
  for (let k = 2; k <= highest && k * fundamentalHz < sampleRate / 2; k++) {
    if (which === "even" && k % 2 === 1) continue;
    if (which === "odd" && k % 2 === 0) continue;
    power += toneAmplitude(x, sampleRate, k * fundamentalHz, start, frames) ** 2;
  }
  return 10 * Math.log10(power / fundamental ** 2);
}

/** Equal sample by sample, bit for bit. */
export function assertSameAudio(a: Audio, b: Audio, what: string): void {
  assert.equal(a.sampleRate, b.sampleRate, `${what}: sample rate`);
  assert.equal(a.channels.length, b.channels.length, `${what}: channel count`);
  a.channels.forEach((channel, c) => {
    const other = b.channels[c]!;
    assert.equal(channel.length, other.length, `${what}: length of channel ${c}`);
    const differing = channel.findIndex((x, i) => !Object.is(x, other[i]));
    assert.equal(differing, -1, `${what}: channel ${c} differs first at sample ${differing}`);
  });
}

/** Same rate, channel count and length as the input, all samples finite. */
export function assertShapeOf(output: Audio, input: Audio, what: string): void {
  assert.equal(output.sampleRate, input.sampleRate, `${what}: sample rate`);
  assert.equal(output.channels.length, input.channels.length, `${what}: channel count`);
  output.channels.forEach((channel, c) => {
    assert.equal(channel.length, input.channels[0]!.length, `${what}: length of channel ${c}`);
    assert.ok(channel.every(Number.isFinite), `${what}: channel ${c} has non-finite samples`);
  });
}

/**
 * Lag (in samples, fractional by parabolic interpolation) of the cross-correlation peak of `y` against `x`
 * within +-maxLag: y[n] ~ x[n - lag].
 */
export function correlationLag(x: Float32Array, y: Float32Array, maxLag: number): number {
  const values: number[] = [];
  let best = -Infinity;
  let bestLag = 0;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sum = 0;
    for (let n = Math.max(0, lag); n < Math.min(y.length, x.length + lag); n++) sum += y[n]! * x[n - lag]!;
    values.push(sum);
    if (sum > best) {
      best = sum;
      bestLag = lag;
    }
  }
  const i = bestLag + maxLag;
  if (i === 0 || i === values.length - 1) return bestLag;
  const [y0, y1, y2] = [values[i - 1]!, values[i]!, values[i + 1]!];
  const denominator = y0 - 2 * y1 + y2;
  return denominator === 0 ? bestLag : bestLag + (0.5 * (y0 - y2)) / denominator;
}

/** Largest |sample| index in [start, end). */
export function peakIndex(x: Float32Array, start = 0, end = x.length): number {
  let best = start;
  for (let i = start; i < end; i++) if (Math.abs(x[i]!) > Math.abs(x[best]!)) best = i;
  return best;
}
