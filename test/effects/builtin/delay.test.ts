import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { delaySamples } from "../../../src/effects/builtin/delay.ts";
import { impulse, RATES, renderMono, rmsOf } from "./helpers.ts";

describe("delay and echo", () => {
  test("a 100 ms delay echoes an impulse at exactly 4410 / 4800 / 9600 samples, decaying by the feedback", async () => {
    const expected: Record<number, number> = { 44100: 4410, 48000: 4800, 96000: 9600 };
    for (const rate of RATES) {
      const d = expected[rate]!;
      assert.equal(delaySamples(100, rate), d);
      const at = 17;
      const x = impulse(at + 5 * d, at);
      const out = await renderMono("delay", { timeMs: 100, feedback: 0.5, mix: 0.4 }, x, rate);
      assert.ok(Math.abs(out[at]! - 0.6) < 1e-7, "dry = (1 - mix)");
      for (let k = 1; k <= 4; k++) {
        const want = 0.4 * 0.5 ** (k - 1);
        assert.ok(
          Math.abs(out[at + k * d]! - want) < 1e-7,
          `${rate}: echo ${k} = ${out[at + k * d]}, want ${want}`,
        );
      }
      const nonzero = out.reduce((count, v) => count + (v !== 0 ? 1 : 0), 0);
      assert.equal(nonzero, 5, `${rate}: nothing between the echoes`);
    }
  });

  test("times round to the nearest sample", () => {
    assert.equal(delaySamples(10.01, 48000), 480);
    assert.equal(delaySamples(10.02, 48000), 481);
    assert.equal(delaySamples(0.001, 48000), 1);
  });

  test("damping low-passes each repeat once more; the first echo stays clean", async () => {
    for (const rate of RATES) {
      const d = delaySamples(50, rate);
      const x = impulse(4 * d);
      const out = await renderMono("echo", { timeMs: 50, feedback: 0.8, mix: 1, dampingHz: 2000 }, x, rate);
      assert.equal(out[d], 1, "first echo is the input");
      // Each later echo is spread over more samples: its peak is lower than feedback^k and its energy too.
      const echo = (k: number) => out.subarray(k * d, (k + 1) * d);
      const peak2 = echo(2).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assert.ok(peak2 < 0.8 * 0.5, `${rate}: second echo peak ${peak2}`);
      assert.ok(rmsOf(echo(3)) < rmsOf(echo(2)) * 0.8, `${rate}: third echo weaker`);
      // The one-pole's DC gain is 1: a repeat's sum is feedback^(k-1), the same at every rate.
      const sum = echo(2).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(sum - 0.8) < 1e-3, `${rate}: second echo sums to ${sum}`);
    }
  });

  test("tails are cut at the input's end; mix 0 returns the input", async () => {
    const x = impulse(1000, 990);
    const out = await renderMono("delay", { timeMs: 1, mix: 0.5 }, x, 48000);
    assert.equal(out.length, 1000);
    assert.deepEqual(await renderMono("delay", { mix: 0 }, x, 48000), x);
  });
});
