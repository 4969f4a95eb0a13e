import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lfo } from "../../../src/effects/builtin/modulation.ts";
import { RATES, renderMono, sine, spectrum } from "./helpers.ts";

describe("tremolo", () => {
  test("on a constant input the output is the gain curve: range [1 - depth, 1], period fs / rateHz", async () => {
    for (const rate of RATES) {
      for (const shape of ["sine", "triangle", "square"] as const) {
        const ones = new Float32Array(rate).fill(1);
        const gain = await renderMono("tremolo", { rateHz: 4, depth: 0.6, shape }, ones, rate);
        const max = gain.reduce((m, v) => Math.max(m, v), 0);
        const min = gain.reduce((m, v) => Math.min(m, v), 2);
        // The triangle's corners fall between samples: within one sample's slope, 4 rateHz depth / (2 fs).
        const tolerance = shape === "triangle" ? (4 * 4 * 0.3) / rate : 1e-6;
        assert.ok(
          Math.abs(max - 1) <= tolerance && Math.abs(min - 0.4) <= tolerance,
          `${rate} ${shape}: ${min}..${max}`,
        );
        // Exactly periodic with period fs / 4 samples.
        const period = rate / 4;
        for (let n = 0; n + period < gain.length; n += 997) {
          assert.ok(Math.abs(gain[n]! - gain[n + period]!) < 1e-6, `${rate} ${shape}: sample ${n}`);
        }
        // Upward crossings of the middle, 1 - depth/2: one per cycle (4 in one second).
        let crossings = 0;
        for (let n = 1; n < gain.length; n++) if (gain[n - 1]! < 0.7 && gain[n]! >= 0.7) crossings++;
        assert.equal(crossings, shape === "square" ? 3 : 4, `${rate} ${shape}`); // the square starts high
      }
    }
  });

  test("sine: g[n] = 1 - d/2 + (d/2) sin(2 pi r n / fs + phase)", async () => {
    const rate = 48000;
    const ones = new Float32Array(4800).fill(1);
    const gain = await renderMono("tremolo", { rateHz: 7, depth: 0.8, phaseDeg: 90 }, ones, rate);
    assert.ok(Math.abs(gain[0]! - 1) < 1e-7, "phase 90: starts at the top");
    for (let n = 0; n < gain.length; n += 131) {
      const expected = 0.6 + 0.4 * Math.sin((2 * Math.PI * 7 * n) / rate + Math.PI / 2);
      assert.ok(Math.abs(gain[n]! - expected) < 1e-6);
    }
  });

  test("on a tone: sidebands at carrier +- rateHz with the amplitude-modulation level (d/2)/(2(1 - d/2))", async () => {
    for (const rate of RATES) {
      const carrier = 1000;
      const fftSize = 16384;
      const rateHz = (10 * rate) / fftSize; // bin-centred sidebands
      const x = sine(carrier, 2 * fftSize, rate);
      const s = spectrum(await renderMono("tremolo", { rateHz, depth: 0.5 }, x, rate), fftSize, rate);
      const expected = 0.25 / (2 * 0.75);
      for (const side of [carrier - rateHz, carrier + rateHz]) {
        const ratio = Math.sqrt(s.at(side, 2) / s.at(carrier, 2));
        assert.ok(Math.abs(ratio / expected - 1) < 0.02, `${rate}: sideband ${ratio} vs ${expected}`);
      }
    }
  });

  test("LFO shapes: triangle and square values", () => {
    assert.equal(lfo("triangle", 0), 0);
    assert.equal(lfo("triangle", 0.25), 1);
    assert.equal(lfo("triangle", 0.5), 0);
    assert.equal(lfo("triangle", 0.75), -1);
    assert.equal(lfo("triangle", 1.125), 0.5);
    assert.equal(lfo("square", 0.2), 1);
    assert.equal(lfo("square", 0.7), -1);
  });

  test("depth 0 leaves the input untouched", async () => {
    const x = sine(440, 4800, 48000);
    assert.deepEqual(await renderMono("tremolo", { depth: 0 }, x, 48000), x);
  });
});
