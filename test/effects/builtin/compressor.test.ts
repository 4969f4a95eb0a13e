import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gainComputerDb } from "../../../src/effects/builtin/compressor.ts";
import { db, RATES, renderMono, sine, toneAmplitude } from "./helpers.ts";

/** A constant (DC) signal of `levelDb` dBFS for `frames` samples, then `nextDb` for as many. */
function steps(frames: number, levelDb: number, nextDb: number): Float32Array {
  return Float32Array.from({ length: 2 * frames }, (_, n) => 10 ** ((n < frames ? levelDb : nextDb) / 20));
}

describe("compressor", () => {
  test("gain computer: unity below the knee, slope 1/ratio above it, continuous through the knee", () => {
    const o = { thresholdDb: -20, ratio: 4, kneeDb: 10 };
    assert.equal(gainComputerDb(-40, o), -40);
    assert.equal(gainComputerDb(-25, o), -25); // knee edge
    assert.equal(gainComputerDb(0, o), -20 + 20 / 4);
    assert.ok(Math.abs(gainComputerDb(-15, o) - (-20 + 5 / 4)) < 1e-12); // upper knee edge
    assert.ok(Math.abs(gainComputerDb(-20, o) - (-20 + ((0.25 - 1) * 25) / 20)) < 1e-12); // middle: T + (1/R-1) W/8
    for (let x = -30; x < -10; x += 0.01) {
      const slope = (gainComputerDb(x + 1e-6, o) - gainComputerDb(x, o)) / 1e-6;
      assert.ok(slope <= 1 + 1e-6 && slope >= 0.25 - 1e-6);
    }
  });

  test("static curve: steady sine levels in vs out follow the ratio, at every rate", async () => {
    for (const rate of RATES) {
      const parameters = { thresholdDb: -30, ratio: 4, kneeDb: 0, attackMs: 0.5, releaseMs: 500 };
      const levels: number[] = [];
      for (const inputDb of [-20, -10, -4]) {
        const amplitude = 10 ** (inputDb / 20);
        const out = await renderMono("compressor", parameters, sine(1000, rate, rate, amplitude), rate);
        const outDb = db(toneAmplitude(out, 1000, rate, rate / 2, rate));
        levels.push(outDb);
        // The detector follows the peaks: output peak = T + (in - T) / R, within the ripple.
        assert.ok(Math.abs(outDb - (-30 + (inputDb + 30) / 4)) < 0.3, `${rate}: ${inputDb} -> ${outDb}`);
      }
      assert.ok(
        Math.abs(levels[1]! - levels[0]! - 10 / 4) < 0.05,
        `${rate}: 10 dB in -> ${levels[1]! - levels[0]!} out`,
      );
      assert.ok(Math.abs(levels[2]! - levels[1]! - 6 / 4) < 0.05, `${rate}`);
      // Below threshold nothing happens; makeup adds.
      const quiet = await renderMono(
        "compressor",
        { ...parameters, makeupDb: 6 },
        sine(1000, rate, rate, 0.01),
        rate,
      );
      assert.ok(Math.abs(db(toneAmplitude(quiet, 1000, rate, rate / 2, rate) / 0.01) - 6) < 0.01);
    }
  });

  test("attack and release: the gain reduction moves by 63% of a level step in one time constant", async () => {
    for (const rate of RATES) {
      const frames = rate; // 1 s per level
      const parameters = { thresholdDb: -30, ratio: 5, kneeDb: 0, attackMs: 20, releaseMs: 150 };
      // Up: -40 dB (below threshold) -> -10 dB: final reduction (1 - 1/5) * 20 = 16 dB.
      const up = steps(frames, -40, -10);
      const outUp = await renderMono("compressor", parameters, up, rate);
      const reductionUp = (n: number) => db(up[n]! / outUp[n]!);
      const atAttack = reductionUp(frames + Math.round(0.02 * rate));
      assert.ok(
        Math.abs(atAttack / 16 - (1 - Math.exp(-1))) < 0.01,
        `${rate}: ${atAttack} dB after attackMs`,
      );
      assert.ok(Math.abs(reductionUp(2 * frames - 1) - 16) < 1e-3);
      // Down: -10 dB -> -40 dB: the reduction relaxes from 16 dB to 0 with the release constant.
      const down = steps(frames, -10, -40);
      const outDown = await renderMono("compressor", parameters, down, rate);
      const atRelease = db(
        down[frames + Math.round(0.15 * rate)]! / outDown[frames + Math.round(0.15 * rate)]!,
      );
      assert.ok(Math.abs(atRelease / 16 - Math.exp(-1)) < 0.01, `${rate}: ${atRelease} dB after releaseMs`);
    }
  });

  test("ratio 1 is transparent apart from makeup gain", async () => {
    const x = sine(300, 4800, 48000, 0.9);
    const out = await renderMono("compressor", { ratio: 1, makeupDb: 0 }, x, 48000);
    assert.ok(out.every((v, n) => Math.abs(v - x[n]!) < 1e-6));
  });
});
