import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { quantize } from "../../../src/effects/builtin/bitcrusher.ts";
import { noise } from "../../helpers/signals.ts";
import { db, RATES, renderMono, rmsOf, sine } from "./helpers.ts";

/** RMS of (output - input). */
function errorRms(out: Float32Array, x: Float32Array): number {
  return rmsOf(out.map((v, n) => v - x[n]!));
}

describe("bitcrusher", () => {
  test("quantisation noise is step^2 / 12 and drops 6.02 dB per bit, at every rate", async () => {
    for (const rate of RATES) {
      const x = noise(Math.round(0.2 * rate), 11, 0.2); // busy: the error is uniform and independent of x
      const levels: number[] = [];
      for (const bits of [6, 8, 10, 12, 16]) {
        const error = errorRms(await renderMono("bitcrusher", { bits }, x, rate), x);
        const step = 2 ** (1 - bits);
        assert.ok(
          Math.abs(db(error / (step / Math.sqrt(12)))) < 0.15,
          `${rate} Hz, ${bits} bits: ${db(error)} dB`,
        );
        levels.push(db(error));
      }
      const bitSteps = [2, 2, 2, 4];
      for (let i = 1; i < levels.length; i++) {
        const perBit = (levels[i - 1]! - levels[i]!) / bitSteps[i - 1]!;
        assert.ok(Math.abs(perBit - 6.02) < 0.1, `${rate} Hz: ${perBit} dB per bit`);
      }
    }
  });

  test("values lie on the b-bit mid-tread grid, clamped to [-1, 1 - step]", async () => {
    const x = noise(4000, 3, 0.6);
    const out = await renderMono("bitcrusher", { bits: 3 }, x, 48000);
    const grid = [-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75];
    assert.ok(out.every((v) => grid.includes(v)));
    assert.equal(quantize(0.99, 0.25), 0.75);
    assert.equal(quantize(-2, 0.25), -1);
    assert.equal(quantize(0.1, 0.25), 0);
    assert.equal(quantize(0.13, 0.25), 0.25);
    const one = await renderMono("bitcrusher", { bits: 1 }, x, 48000);
    assert.ok(one.every((v) => v === -1 || v === 0));
  });

  test("downsample holds every k-th input sample for k samples (the same number of samples at every rate)", async () => {
    for (const rate of RATES) {
      const x = noise(1000, 5, 0.3);
      for (const factor of [2, 5, 16]) {
        const out = await renderMono("bitcrusher", { bits: 24, downsample: factor }, x, rate);
        for (let n = 0; n < x.length; n++) {
          const held = x[n - (n % factor)]!;
          assert.ok(Math.abs(out[n]! - held) <= 2 ** -24, `${rate}, x${factor}, sample ${n}`);
        }
      }
    }
  });

  test("dither: seeded TPDF, deterministic per seed, decorrelates the error from a quiet sine", async () => {
    const x = sine(440, 48000, 48000, 0.004); // about one step at 8 bits: without dither, heavy distortion
    const a = await renderMono("bitcrusher", { bits: 8, dither: true, seed: 1 }, x, 48000);
    const b = await renderMono("bitcrusher", { bits: 8, dither: true, seed: 1 }, x, 48000);
    const c = await renderMono("bitcrusher", { bits: 8, dither: true, seed: 2 }, x, 48000);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // TPDF dither of +-1 step: total error power step^2/12 (rounding) + step^2/6 (dither) = step^2/4.
    const step = 2 ** -7;
    assert.ok(Math.abs(db(errorRms(a, x) / (step / 2))) < 0.3, `${db(errorRms(a, x))}`);
    // The error is not correlated with the signal any more.
    const error = a.map((v, n) => v - x[n]!);
    let cross = 0;
    for (let n = 0; n < x.length; n++) cross += error[n]! * x[n]!;
    assert.ok(Math.abs(cross / (rmsOf(error) * rmsOf(x) * x.length)) < 0.02);
  });
});
