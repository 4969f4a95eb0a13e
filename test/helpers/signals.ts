import type { Audio } from "../../src/audio/audio.ts";
import { Rng } from "../../src/core/rng.ts";

/** Gaussian noise with standard deviation `level`, seeded. */
export function noise(frames: number, seed: number, level = 0.1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: frames }, () => level * rng.normal());
}

/** y[n] = x[n - delay] (zeros shifted in; a negative delay advances). */
export function delay(x: Float32Array, samples: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let n = 0; n < x.length; n++) {
    const from = n - samples;
    y[n] = from >= 0 && from < x.length ? x[from]! : 0;
  }
  return y;
}

export function mono(sampleRate: number, samples: Float32Array): Audio {
  return { sampleRate, channels: [samples] };
}

export function map(x: Float32Array, f: (value: number) => number): Float32Array {
  return x.map(f);
}

/** Pearson correlation of two equal-length signals (without removing the mean: audio is ~zero-mean). */
export function correlation(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}
