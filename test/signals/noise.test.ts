import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import { powerSpectrum } from "../../src/dsp/fft.ts";
import { noise } from "../../src/signals/noise.ts";
import { correlation } from "../helpers/signals.ts";

const RATE = 48000;

/** Least-squares slope of the power spectral density, dB per octave, from octave bands 50 Hz..12.8 kHz. */
function densitySlopeDbPerOctave(signal: Float32Array, sampleRate = RATE): number {
  const fftSize = 8192;
  const power = powerSpectrum(signal, fftSize);
  const binHz = sampleRate / fftSize;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let octave = 0; octave < 8; octave++) {
    const low = 50 * 2 ** octave;
    let sum = 0;
    let bins = 0;
    for (let k = Math.ceil(low / binHz); k * binHz < 2 * low; k++) {
      sum += power[k]!;
      bins++;
    }
    xs.push(octave);
    ys.push(10 * Math.log10(sum / bins)); // mean density in the band
  }
  const meanX = xs.reduce((a, b) => a + b) / xs.length;
  const meanY = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - meanX) * (ys[i]! - meanY);
    den += (x - meanX) ** 2;
  });
  return num / den;
}

function moments(signal: Float32Array): { mean: number; rms: number; kurtosis: number; peak: number } {
  let sum = 0;
  let peak = 0;
  for (const x of signal) {
    sum += x;
    peak = Math.max(peak, Math.abs(x));
  }
  const mean = sum / signal.length;
  let m2 = 0;
  let m4 = 0;
  for (const x of signal) {
    m2 += (x - mean) ** 2;
    m4 += (x - mean) ** 4;
  }
  m2 /= signal.length;
  m4 /= signal.length;
  return { mean, rms: Math.sqrt(m2 + mean * mean), kurtosis: m4 / (m2 * m2), peak };
}

describe("noise", () => {
  test("pink noise falls 3 dB per octave (+-0.3), white noise is flat (+-0.3)", () => {
    const pink = noise({ color: "pink", seconds: 6 }).channels[0]!;
    const white = noise({ color: "white", seconds: 6 }).channels[0]!;
    const pinkSlope = densitySlopeDbPerOctave(pink);
    const whiteSlope = densitySlopeDbPerOctave(white);
    assert.ok(Math.abs(pinkSlope + 3.01) < 0.3, `pink: ${pinkSlope.toFixed(2)} dB/octave`);
    assert.ok(Math.abs(whiteSlope) < 0.3, `white: ${whiteSlope.toFixed(2)} dB/octave`);
  });

  test("pink noise at 96 kHz is still -3 dB per octave (the filter scales with the rate)", () => {
    const pink = noise({ color: "pink", seconds: 3, sampleRate: 96000 }).channels[0]!;
    const slope = densitySlopeDbPerOctave(pink, 96000);
    assert.ok(Math.abs(slope + 3.01) < 0.3, `${slope.toFixed(2)} dB/octave`);
  });

  test("gaussian and uniform white noise have their distributions' statistics", () => {
    const gaussian = moments(noise({ distribution: "gaussian", seconds: 4 }).channels[0]!);
    const uniform = moments(noise({ distribution: "uniform", seconds: 4 }).channels[0]!);
    assert.ok(Math.abs(gaussian.kurtosis - 3) < 0.1, `gaussian kurtosis ${gaussian.kurtosis}`);
    assert.ok(Math.abs(uniform.kurtosis - 1.8) < 0.05, `uniform kurtosis ${uniform.kurtosis}`);
    assert.ok(Math.abs(uniform.peak / uniform.rms - Math.sqrt(3)) < 0.01, "uniform crest factor is sqrt(3)");
    assert.ok(Math.abs(gaussian.mean) < 0.01 * gaussian.rms && Math.abs(uniform.mean) < 0.01 * uniform.rms);
  });

  test("amplitude sets the peak by default, or the RMS with amplitudeMeasure 'rms'", () => {
    const byPeak = moments(noise({ amplitude: 0.4, seconds: 1 }).channels[0]!);
    assert.equal(byPeak.peak, Math.fround(0.4));
    const byRms = moments(
      noise({ amplitude: 0.1, amplitudeMeasure: "rms", seconds: 1, channels: 2 }).channels[0]!,
    );
    assert.ok(Math.abs(byRms.rms - 0.1) < 1e-3, `rms ${byRms.rms}`);
    assert.throws(
      () => noise({ amplitude: 0.5, amplitudeMeasure: "rms" }),
      (e: unknown) => e instanceof OptionError && /amplitude: an RMS of 0.5 puts peaks at/.test(e.message),
    );
  });

  test("same seed is bit-identical, another seed differs; exact length", () => {
    const a = noise({ color: "pink", seed: 5, seconds: 0.5, sampleRate: 44100 });
    const b = noise({ color: "pink", seed: 5, seconds: 0.5, sampleRate: 44100 });
    const c = noise({ color: "pink", seed: 6, seconds: 0.5, sampleRate: 44100 });
    assert.equal(a.channels[0]!.length, 22050);
    assert.deepEqual(a.channels[0], b.channels[0]);
    assert.notDeepEqual(a.channels[0], c.channels[0]);
  });

  test("stereo: identical channels are equal, independent channels are uncorrelated", () => {
    for (const color of ["white", "pink"] as const) {
      const same = noise({ color, channels: 2, seconds: 1 });
      assert.deepEqual(same.channels[1], same.channels[0]);
      const independent = noise({ color, channels: 2, stereo: "independent", seconds: 1 });
      const r = correlation(independent.channels[0]!, independent.channels[1]!);
      assert.ok(Math.abs(r) < 0.05, `${color}: r = ${r}`);
    }
  });
});
