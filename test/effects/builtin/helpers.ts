import type { Audio } from "../../../src/audio/audio.ts";
import { powerSpectrum } from "../../../src/dsp/fft.ts";
import { builtinEffects } from "../../../src/effects/builtin/index.ts";
import { renderChain, resolveChain } from "../../../src/effects/chain.ts";
import type { AnyEffect, Parameters } from "../../../src/effects/effect.ts";

export const RATES = [44100, 48000, 96000] as const;

/**
 * render / renderMono for an effect registry, through the public path (resolveChain validates, renderChain
 * runs); renderMono returns channel 0 of a mono render.
 */
export function renderersFor(effects: readonly AnyEffect[]) {
  const render = (
    effect: string,
    parameters: Parameters,
    audio: Audio,
  ): Promise<{ audio: Audio; latencySamples: number }> =>
    renderChain(audio, resolveChain([{ effect, parameters }], effects));
  const renderMono = async (
    effect: string,
    parameters: Parameters,
    signal: Float32Array,
    sampleRate: number,
  ): Promise<Float32Array> =>
    (await render(effect, parameters, { sampleRate, channels: [signal] })).audio.channels[0]!;
  return { render, renderMono };
}

/** The builtin effects' renderers. */
export const { render, renderMono } = renderersFor(builtinEffects);

/** amplitude * sin(2 pi hz n / fs). */
export function sine(hz: number, frames: number, sampleRate: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: frames },
    (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / sampleRate),
  );
}

export function impulse(frames: number, at = 0, amplitude = 1): Float32Array {
  const x = new Float32Array(frames);
  x[at] = amplitude;
  return x;
}

/** Root mean square of x[start, end). */
export function rmsOf(x: ArrayLike<number>, start = 0, end = x.length): number {
  let sum = 0;
  for (let n = start; n < end; n++) sum += x[n]! * x[n]!;
  return Math.sqrt(sum / Math.max(1, end - start));
}

export function db(ratio: number): number {
  return 20 * Math.log10(ratio);
}

/**
 * Amplitude of the component at `hz` in x[start, end) by least squares against cos and sin at that
 * frequency (exact for a steady sinusoid; other components leak in only as 1/(window in cycles)).
 */
export function toneAmplitude(
  x: Float32Array,
  hz: number,
  sampleRate: number,
  start = 0,
  end = x.length,
): number {
  let cc = 0;
  let ss = 0;
  let cs = 0;
  let xc = 0;
  let xs = 0;
  for (let n = start; n < end; n++) {
    const w = (2 * Math.PI * hz * n) / sampleRate;
    const c = Math.cos(w);
    const s = Math.sin(w);
    cc += c * c;
    ss += s * s;
    cs += c * s;
    xc += x[n]! * c;
    xs += x[n]! * s;
  }
  const det = cc * ss - cs * cs;
  const a = (xc * ss - xs * cs) / det;
  const b = (xs * cc - xc * cs) / det;
  return Math.hypot(a, b);
}

/** Power spectrum of x with `fftSize`, and the power summed over bins within `halfWidth` bins of `hz`. */
export function spectrum(x: Float32Array, fftSize: number, sampleRate: number) {
  const power = powerSpectrum(x, fftSize);
  const binHz = sampleRate / fftSize;
  return {
    power,
    binHz,
    /** Power of the component at hz (the Hann main lobe is +-2 bins). */
    at(hz: number, halfWidth = 3): number {
      const centre = Math.round(hz / binHz);
      let sum = 0;
      for (
        let k = Math.max(0, centre - halfWidth);
        k <= Math.min(power.length - 1, centre + halfWidth);
        k++
      ) {
        sum += power[k]!;
      }
      return sum;
    },
    /** Power summed over the bins whose frequency satisfies `keep`. */
    where(keep: (hz: number) => boolean): number {
      let sum = 0;
      power.forEach((p, k) => {
        if (keep(k * binHz)) sum += p;
      });
      return sum;
    },
  };
}

/** Calls `fn` and returns the message of the error it rejects with (fails if it resolves). */
export async function errorMessage(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}
