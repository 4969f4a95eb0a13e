import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { biquadCoefficients, biquadMagnitudeDb, butterworthQs } from "../../../src/dsp/biquad.ts";
import { db, RATES, renderMono, sine, toneAmplitude } from "./helpers.ts";

/** Steady-state gain in dB of `effect` for a sine at `hz` (the first 50 ms are the filter's transient). */
async function gainDb(effect: string, parameters: Record<string, number>, hz: number, sampleRate: number) {
  const frames = Math.round(0.25 * sampleRate);
  const out = await renderMono(effect, parameters, sine(hz, frames, sampleRate), sampleRate);
  return db(toneAmplitude(out, hz, sampleRate, Math.round(0.05 * sampleRate)) / 0.5);
}

/** |H(f)|^2 = 1 / (1 + (f / fc)^(2N)) of an analog Butterworth low-pass of order N, in dB. */
function butterworthDb(ratio: number, order: number): number {
  return -10 * Math.log10(1 + ratio ** (2 * order));
}

describe("biquad helpers", () => {
  test("butterworthQs gives the textbook section Qs", () => {
    assert.deepEqual(
      butterworthQs(2).map((q) => q.toFixed(4)),
      ["0.7071"],
    );
    assert.deepEqual(
      butterworthQs(4).map((q) => q.toFixed(4)),
      ["0.5412", "1.3066"],
    );
    assert.throws(() => butterworthQs(3), /even integer/);
  });

  test("biquadMagnitudeDb matches a steady sine through the filter", async () => {
    const c = biquadCoefficients({ type: "peaking", frequencyHz: 2000, sampleRate: 48000, q: 2, gainDb: -9 });
    for (const hz of [500, 1500, 2000, 3000]) {
      const measured = await gainDb("peaking", { frequencyHz: 2000, q: 2, gainDb: -9 }, hz, 48000);
      assert.ok(Math.abs(measured - biquadMagnitudeDb(c, hz, 48000)) < 0.02, `${hz} Hz`);
    }
  });
});

describe("filters", () => {
  test("lowpass 1 kHz: flat below, -3 dB at the cutoff, ~-12 dB an octave up, at every rate", async () => {
    for (const rate of RATES) {
      const at = (hz: number, order = 2) => gainDb("lowpass", { cutoffHz: 1000, order }, hz, rate);
      assert.ok(Math.abs(await at(200)) < 0.05, `${rate}: 200 Hz passes`);
      assert.ok(Math.abs((await at(1000)) + 3.01) < 0.05, `${rate}: -3 dB at the cutoff`);
      // Bilinear warping makes the digital slope a little steeper than the analog one, more so at low rates.
      const octave = await at(2000);
      assert.ok(
        octave < butterworthDb(2, 2) + 0.05 && octave > butterworthDb(2, 2) - 0.6,
        `${rate}: ${octave}`,
      );
      const order4 = await at(2000, 4);
      assert.ok(
        order4 < butterworthDb(2, 4) + 0.05 && order4 > butterworthDb(2, 4) - 1,
        `${rate}: order 4 ${order4}`,
      );
      assert.ok(Math.abs((await at(1000, 8)) + 3.01) < 0.05, `${rate}: order 8 also -3 dB at the cutoff`);
    }
  });

  test("highpass 1 kHz mirrors it", async () => {
    for (const rate of RATES) {
      const at = (hz: number, order = 2) => gainDb("highpass", { cutoffHz: 1000, order }, hz, rate);
      assert.ok(Math.abs(await at(8000)) < 0.1, `${rate}: 8 kHz passes`);
      assert.ok(Math.abs((await at(1000)) + 3.01) < 0.05, `${rate}: -3 dB at the cutoff`);
      const octave = await at(500);
      assert.ok(Math.abs(octave - butterworthDb(2, 2)) < 0.6, `${rate}: ${octave}`);
      assert.ok(Math.abs((await at(500, 6)) - butterworthDb(2, 6)) < 1, `${rate}: order 6`);
    }
  });

  test("resonance: q = 4 peaks ~ +12 dB at the cutoff", async () => {
    const peak = await gainDb("lowpass", { cutoffHz: 1000, q: 4 }, 1000, 48000);
    assert.ok(Math.abs(peak - db(4)) < 0.1, `${peak}`);
  });

  test("peaking boosts and cuts by gainDb at its frequency and leaves far frequencies alone", async () => {
    for (const rate of RATES) {
      for (const gain of [6, -9, 15]) {
        const centre = await gainDb("peaking", { frequencyHz: 1500, gainDb: gain, q: 1.4 }, 1500, rate);
        assert.ok(Math.abs(centre - gain) < 0.05, `${rate}, ${gain} dB: ${centre}`);
        const far = await gainDb("peaking", { frequencyHz: 1500, gainDb: gain, q: 1.4 }, 100, rate);
        assert.ok(Math.abs(far) < 0.2, `${rate}, ${gain} dB far away: ${far}`);
      }
    }
  });

  test("bandpass is 0 dB at its centre and falls off; notch removes its frequency", async () => {
    for (const rate of RATES) {
      assert.ok(Math.abs(await gainDb("bandpass", { frequencyHz: 2000, q: 2 }, 2000, rate)) < 0.05);
      assert.ok((await gainDb("bandpass", { frequencyHz: 2000, q: 2 }, 500, rate)) < -15);
      assert.ok((await gainDb("notch", { frequencyHz: 2000, q: 2 }, 2000, rate)) < -50);
      assert.ok(Math.abs(await gainDb("notch", { frequencyHz: 2000, q: 2 }, 200, rate)) < 0.1);
    }
  });

  test("shelves: the full gain on their side, half at the midpoint, 0 dB on the other side", async () => {
    for (const rate of RATES) {
      const low = (hz: number) => gainDb("lowshelf", { frequencyHz: 300, gainDb: 10 }, hz, rate);
      assert.ok(Math.abs((await low(30)) - 10) < 0.2);
      assert.ok(Math.abs((await low(300)) - 5) < 0.05);
      assert.ok(Math.abs(await low(5000)) < 0.1);
      const high = (hz: number) => gainDb("highshelf", { frequencyHz: 3000, gainDb: -8 }, hz, rate);
      assert.ok(Math.abs((await high(15000)) + 8) < 0.3);
      assert.ok(Math.abs((await high(3000)) + 4) < 0.05);
      assert.ok(Math.abs(await high(100)) < 0.1);
    }
  });
});
