import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Rng } from "../../../src/core/rng.ts";
import { biquadCascade, biquadCoefficients, butterworthQs } from "../../../src/dsp/biquad.ts";
import { fftConvolve, roomImpulseResponse } from "../../../src/effects/builtin/reverb.ts";
import { impulse, RATES, renderMono, rmsOf } from "./helpers.ts";

/**
 * Reverberation time from Schroeder's backward integration (Schroeder, "New method of measuring reverberation
 * time", JASA 1965): EDC(n) = sum_{m >= n} h[m]^2; least-squares line through EDC in dB between -5 and
 * -25 dB (T20), extrapolated to 60 dB.
 */
function rt60Seconds(h: Float32Array, sampleRate: number): number {
  const edc = new Float64Array(h.length);
  let sum = 0;
  for (let n = h.length - 1; n >= 0; n--) {
    sum += h[n]! * h[n]!;
    edc[n] = sum;
  }
  const points: [number, number][] = [];
  edc.forEach((e, n) => {
    const level = 10 * Math.log10(e / edc[0]!);
    if (level <= -5 && level >= -25) points.push([n / sampleRate, level]);
  });
  const mt = points.reduce((s, [t]) => s + t, 0) / points.length;
  const ml = points.reduce((s, [, l]) => s + l, 0) / points.length;
  const slope =
    points.reduce((s, [t, l]) => s + (t - mt) * (l - ml), 0) /
    points.reduce((s, [t]) => s + (t - mt) ** 2, 0);
  return -60 / slope;
}

/** RT60 of h after a 4th-order low-pass at 4 kHz, so that every rate measures the same band. */
function bandRt60Seconds(h: Float32Array, sampleRate: number): number {
  const sections = butterworthQs(4).map((q) =>
    biquadCoefficients({ type: "lowpass", frequencyHz: 4000, sampleRate, q }),
  );
  return rt60Seconds(biquadCascade(h, sections), sampleRate);
}

function naiveConvolve(x: Float32Array, h: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let n = 0; n < x.length; n++) {
    for (let k = 0; k < h.length && k <= n; k++) y[n]! += h[k]! * x[n - k]!;
  }
  return y;
}

describe("reverb (Freeverb)", () => {
  test("impulse response decays, the same time in seconds at every rate, longer for bigger rooms", async () => {
    const byRoom: Record<string, number[]> = {};
    for (const room of ["small", "medium", "hall"]) {
      byRoom[room] = [];
      for (const rate of RATES) {
        const out = await renderMono(
          "reverb",
          { room, mix: 1 },
          impulse(Math.round((room === "hall" ? 6 : 3) * rate)),
          rate,
        );
        // Measured in a band all rates share: above 22 kHz the damping filters differ (they match in Hz
        // only below that), and those fast-dying highs would pull the broadband figure at 96 kHz.
        byRoom[room].push(bandRt60Seconds(out, rate));
        // Energy falls window by window (100 ms windows, after the first 100 ms build-up).
        const w = Math.round(0.1 * rate);
        let previous = Number.POSITIVE_INFINITY;
        for (let start = w; start + w <= Math.min(out.length, 10 * w); start += w) {
          const level = rmsOf(out, start, start + w);
          assert.ok(level < previous, `${room} at ${rate}: window at ${start}`);
          previous = level;
        }
      }
      const [low, mid, high] = byRoom[room];
      assert.ok(
        Math.abs(mid! / low! - 1) < 0.03 && Math.abs(high! / low! - 1) < 0.03,
        `${room}: ${byRoom[room]}`,
      );
    }
    assert.ok(
      byRoom.small![1]! < byRoom.medium![1]! && byRoom.medium![1]! < byRoom.hall![1]!,
      JSON.stringify(byRoom),
    );
    // Medium: comb feedback 0.868 gives comb decay times 48.9 L / fs = 1.24 .. 1.79 s; damping shortens them.
    assert.ok(byRoom.medium![1]! > 0.6 && byRoom.medium![1]! < 1.8, `${byRoom.medium}`);
  });

  test("the tail dies: 60 dB down after the longest comb's RT60", async () => {
    const rate = 48000;
    const out = await renderMono("reverb", { room: "small", mix: 1 }, impulse(3 * rate), rate);
    const start = rmsOf(out, 0, rate / 10);
    const end = rmsOf(out, 2.9 * rate, 3 * rate);
    assert.ok(20 * Math.log10(end / start) < -60, `${20 * Math.log10(end / start)}`);
  });

  test("mix 0 is the input; damping darkens the tail", async () => {
    const x = impulse(48000);
    assert.deepEqual(await renderMono("reverb", { mix: 0 }, x, 48000), x);
    const bright = await renderMono("reverb", { mix: 1, damping: 0 }, x, 48000);
    const dark = await renderMono("reverb", { mix: 1, damping: 1 }, x, 48000);
    const hf = (y: Float32Array) =>
      rmsOf(
        y.map((v, n) => (n > 0 ? v - y[n - 1]! : 0)),
        24000,
        48000,
      );
    assert.ok(hf(dark) < 0.5 * hf(bright));
  });
});

describe("room (convolution)", () => {
  test("RT60 of the rendered impulse response is rt60Seconds (within 10%) at every rate", async () => {
    for (const rate of RATES) {
      for (const rt60 of [0.3, 1.2]) {
        const out = await renderMono(
          "room",
          { rt60Seconds: rt60, mix: 1 },
          impulse(Math.round(1.5 * rt60 * rate)),
          rate,
        );
        const measured = rt60Seconds(out, rate);
        assert.ok(Math.abs(measured / rt60 - 1) < 0.1, `${rate} Hz, ${rt60} s: ${measured}`);
      }
    }
  });

  test("presets order their decay; silence until the predelay; the tail dies", async () => {
    const rate = 48000;
    const times = [];
    for (const room of ["small", "medium", "hall"]) {
      const out = await renderMono("room", { room, mix: 1 }, impulse(4 * rate), rate);
      times.push(rt60Seconds(out, rate));
      if (room === "small") {
        assert.ok(20 * Math.log10(rmsOf(out, 3.5 * rate, 4 * rate) / rmsOf(out, 0, 0.1 * rate)) < -80);
      }
    }
    assert.ok(times[0]! < times[1]! && times[1]! < times[2]!, `${times}`);
    for (const sampleRate of RATES) {
      const out = await renderMono("room", { predelayMs: 20, mix: 1 }, impulse(sampleRate), sampleRate);
      const onset = Math.round(0.02 * sampleRate);
      // Before the predelay only FFT round-off (~1e-18).
      const before = out.subarray(0, onset).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assert.ok(before < 1e-9, `${sampleRate}: ${before} before the predelay`);
      assert.ok(Math.abs(out[onset]!) > 0.05, "the first reflection arrives at the predelay");
    }
  });

  test("the impulse response has unit energy, is seeded, and mix 0 is the input", async () => {
    const options = {
      sampleRate: 48000,
      rt60Seconds: 0.5,
      predelayMs: 8,
      dampingHz: 5000,
      reflections: 8,
      seed: 3,
    };
    const h = roomImpulseResponse(options);
    assert.ok(Math.abs(h.reduce((s, v) => s + v * v, 0) - 1) < 1e-12);
    assert.deepEqual(roomImpulseResponse(options), h);
    assert.notDeepEqual(roomImpulseResponse({ ...options, seed: 4 }), h);
    const x = impulse(4800);
    assert.deepEqual(await renderMono("room", { mix: 0 }, x, 48000), x);
    const a = await renderMono("room", { seed: 1 }, x, 48000);
    assert.notDeepEqual(await renderMono("room", { seed: 2 }, x, 48000), a);
  });

  test("fftConvolve agrees with direct convolution (truncated to the input's length)", () => {
    const rng = new Rng(9);
    for (const [xLength, hLength] of [
      [3000, 700],
      [1000, 1000],
      [500, 2000],
      [5, 1],
    ] as const) {
      const x = Float32Array.from({ length: xLength }, () => rng.normal());
      const h = Float64Array.from({ length: hLength }, () => rng.normal());
      const fast = fftConvolve(x, h);
      const slow = naiveConvolve(x, h);
      const worst = fast.reduce((m, v, n) => Math.max(m, Math.abs(v - slow[n]!)), 0);
      assert.ok(worst < 1e-9, `${xLength} x ${hLength}: ${worst}`);
    }
  });
});
