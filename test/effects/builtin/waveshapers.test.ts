import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  cubicCurve,
  diodeCurve,
  fuzzCurve,
  hardClipCurve,
  tanhCurve,
} from "../../../src/effects/builtin/waveshapers.ts";
import { noise } from "../../helpers/signals.ts";
import { db, RATES, render, renderMono, sine, spectrum, toneAmplitude } from "./helpers.ts";

const RATE = 48000;

/** Fourier sine coefficient b_k of f(A sin(theta)): (2 / pi) integral_0^pi f(A sin t) sin(k t) dt (midpoint rule). */
function fourier(curve: (x: number) => number, amplitude: number, k: number): number {
  const steps = 20000;
  let sum = 0;
  for (let i = 0; i < steps; i++) {
    const t = (Math.PI * (i + 0.5)) / steps;
    sum += curve(amplitude * Math.sin(t)) * Math.sin(k * t);
  }
  return (2 / steps) * sum;
}

/** Level of harmonic k relative to the fundamental, dB, measured in the middle of the render. */
function harmonicDb(out: Float32Array, hz: number, k: number, sampleRate: number): number {
  const [start, end] = [Math.round(0.02 * sampleRate), out.length - Math.round(0.02 * sampleRate)];
  return db(
    toneAmplitude(out, k * hz, sampleRate, start, end) / toneAmplitude(out, hz, sampleRate, start, end),
  );
}

/** Cross-correlation of y against x at lags -maxLag..maxLag; returns the lag of the largest value. */
function bestLag(x: Float32Array, y: Float32Array, maxLag: number): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sum = 0;
    for (let n = maxLag; n < x.length - maxLag; n++) sum += x[n]! * y[n + lag]!;
    if (sum > bestValue) [best, bestValue] = [lag, sum];
  }
  return best;
}

describe("waveshapers", () => {
  test("drive: 3rd and 5th harmonics of a sine match the Fourier series of tanh(A sin), at every rate", async () => {
    for (const rate of RATES) {
      const x = sine(500, Math.round(0.2 * rate), rate, 0.5);
      for (const gainDb of [6, 12, 20]) {
        const amplitude = 0.5 * 10 ** (gainDb / 20);
        const out = await renderMono("drive", { gainDb, oversample: 8 }, x, rate);
        for (const k of [3, 5]) {
          const expected = db(Math.abs(fourier(tanhCurve, amplitude, k) / fourier(tanhCurve, amplitude, 1)));
          const measured = harmonicDb(out, 500, k, rate);
          assert.ok(
            Math.abs(measured - expected) < 0.1,
            `${rate} Hz, ${gainDb} dB, H${k}: ${measured} vs ${expected}`,
          );
        }
      }
    }
  });

  test("softclip: H3 / H1 = (A^3 / 12) / (A - A^3 / 4) below the knee, the cubic's exact series", async () => {
    const amplitude = 0.8; // gainDb 0 on a 0.8 sine: stays inside |x| <= 1
    const out = await renderMono("softclip", { gainDb: 0 }, sine(500, 9600, RATE, amplitude), RATE);
    const expected = db(amplitude ** 3 / 12 / (amplitude - amplitude ** 3 / 4));
    assert.ok(Math.abs(harmonicDb(out, 500, 3, RATE) - expected) < 0.05);
    assert.ok(harmonicDb(out, 500, 5, RATE) < -90, "a cubic makes no 5th harmonic");
  });

  test("drive, hardclip and softclip are odd-symmetric: f(-x) = -f(x) exactly, no even harmonics", async () => {
    const x = sine(500, 9600, RATE, 0.5);
    const minus = x.map((v) => -v);
    for (const name of ["drive", "hardclip", "softclip"]) {
      const out = await renderMono(name, { gainDb: 15 }, x, RATE);
      const outMinus = await renderMono(name, { gainDb: 15 }, minus, RATE);
      assert.deepEqual(
        outMinus,
        out.map((v) => -v),
        name,
      );
      assert.ok(harmonicDb(out, 500, 3, RATE) > -30, `${name} makes a 3rd harmonic`);
      assert.ok(harmonicDb(out, 500, 2, RATE) < -90, `${name}: H2 ${harmonicDb(out, 500, 2, RATE)}`);
      assert.ok(harmonicDb(out, 500, 4, RATE) < -90, `${name}: H4`);
    }
  });

  test("diode and fuzz are asymmetric: strong even harmonics and no DC", async () => {
    for (const rate of RATES) {
      const x = sine(500, Math.round(0.3 * rate), rate, 0.5);
      for (const [name, parameters] of [
        ["diode", { gainDb: 12 }],
        ["fuzz", {}],
        ["fuzz", { bias: -0.2, gainDb: 48 }],
      ] as const) {
        const out = await renderMono(name, parameters, x, rate);
        const h2 = harmonicDb(out, 500, 2, rate);
        assert.ok(h2 > -25, `${name} ${JSON.stringify(parameters)} at ${rate}: H2 ${h2} dB`);
        const tail = out.subarray(Math.round(0.2 * rate));
        const mean = tail.reduce((sum, v) => sum + v, 0) / tail.length;
        assert.ok(Math.abs(mean) < 0.01, `${name}: DC ${mean}`);
      }
    }
    // The curves themselves: asymmetric saturation levels.
    assert.equal(diodeCurve(50), 1);
    assert.equal(diodeCurve(-50), -0.5);
    assert.ok(Math.abs(fuzzCurve(-50) + 0.6) < 1e-12);
  });

  test("the curves have slope 1 at 0 and their documented limits", () => {
    for (const curve of [tanhCurve, hardClipCurve, cubicCurve, diodeCurve, fuzzCurve]) {
      const slope = (curve(1e-6) - curve(-1e-6)) / 2e-6;
      assert.ok(Math.abs(slope - 1) < 1e-5, curve.name);
    }
    assert.equal(hardClipCurve(3), 1);
    assert.equal(cubicCurve(-3), -2 / 3);
  });

  test("small signals: gain is gainDb + outputDb and oversampling adds no latency (lag 0)", async () => {
    const x = noise(4800, 7, 0.001);
    for (const name of ["drive", "hardclip", "softclip", "diode", "fuzz"]) {
      for (const oversample of [1, 2, 4, 8]) {
        const parameters = { gainDb: 6, outputDb: -3, oversample, ...(name === "fuzz" ? { bias: 0 } : {}) };
        const { audio, latencySamples } = await render(name, parameters, { sampleRate: RATE, channels: [x] });
        assert.equal(latencySamples, 0);
        assert.equal(bestLag(x, audio.channels[0]!, 4), 0, `${name} x${oversample}`);
      }
      const tone = await renderMono(
        name,
        { gainDb: 6, outputDb: -3, ...(name === "fuzz" ? { bias: 0 } : {}) },
        sine(1000, 4800, RATE, 0.001),
        RATE,
      );
      const gain = db(toneAmplitude(tone, 1000, RATE, 480, 4320) / 0.001);
      assert.ok(Math.abs(gain - 3) < 0.02, `${name}: small-signal gain ${gain} dB`);
    }
  });

  // Measured (dB re the fundamental, 1x/2x/4x/8x): hardclip -30/-44/-57/-69, drive -41/-116/-140/-140.
  test("oversampling reduces aliasing: energy away from the harmonics drops", async () => {
    // Bin-centred (700 bins of 8192 at 48 kHz), so every harmonic and alias is periodic in the FFT frame and
    // nothing leaks; harmonics above 24 kHz fold back between the harmonics.
    const hz = (700 * RATE) / 8192;
    const x = sine(hz, RATE / 2, RATE, 0.5);
    const inharmonicDb = async (name: string, oversample: number) => {
      const s = spectrum(await renderMono(name, { gainDb: 12, oversample }, x, RATE), 8192, RATE);
      const nearHarmonic = (f: number) => {
        const k = Math.round(f / hz);
        return Math.abs(f - k * hz) <= 4 * s.binHz;
      };
      return 10 * Math.log10(s.where((f) => !nearHarmonic(f)) / s.at(hz));
    };
    for (const name of ["hardclip", "drive"]) {
      const levels = [];
      for (const oversample of [1, 2, 4, 8]) levels.push(await inharmonicDb(name, oversample));
      assert.ok(levels[0]! > -60, `${name}: aliasing at 1x is audible: ${levels[0]}`);
      assert.ok(levels[1]! < levels[0]! - 6, `${name}: 2x < 1x: ${levels}`);
      assert.ok(levels[2]! < levels[0]! - 20, `${name}: 4x < 1x - 20 dB: ${levels}`);
      assert.ok(levels[3]! < levels[0]! - 30, `${name}: 8x < 1x - 30 dB: ${levels}`);
      assert.ok(levels[3]! <= levels[2]! + 1, `${name}: 8x <= 4x: ${levels}`);
    }
  });
});
