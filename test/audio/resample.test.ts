import assert from "node:assert/strict";
import { test } from "node:test";
import { resample } from "../../src/audio/resample.ts";
import { powerSpectrum } from "../../src/dsp/fft.ts";

function sine(sampleRate: number, frequencyHz: number, frames: number): Float32Array {
  return Float32Array.from({ length: frames }, (_, n) =>
    Math.sin((2 * Math.PI * frequencyHz * n) / sampleRate),
  );
}

test("resampled sines equal the exact sine at the new rate (up, down, fractional ratios)", () => {
  for (const [from, to, hz] of [
    [44100, 48000, 1000],
    [48000, 44100, 15000],
    [22050, 48000, 3000],
    [48000, 8000, 1000],
    [48000, 192000, 5000],
    [192000, 48000, 5000],
    [44100, 47999, 1000], // more than 4096 phases: the per-sample path
  ] as const) {
    const y = resample({ sampleRate: from, channels: [sine(from, hz, from)] }, to).channels[0]!;
    assert.equal(y.length, to);
    let worst = 0;
    for (let j = 200; j < y.length - 200; j++)
      worst = Math.max(worst, Math.abs(y[j]! - Math.sin((2 * Math.PI * hz * j) / to)));
    assert.ok(worst < 2e-5, `${from} -> ${to} Hz: max error ${worst}`);
  }
});

test("downsampling removes what the new rate cannot hold instead of aliasing it", () => {
  // 7 kHz at 48 kHz -> 8 kHz: it would alias to 1 kHz; it must vanish instead.
  const y = resample({ sampleRate: 48000, channels: [sine(48000, 7000, 48000)] }, 8000).channels[0]!;
  const power = powerSpectrum(y.subarray(1000, 7000), 1024);
  const total = power.reduce((sum, value) => sum + value, 0);
  assert.ok(total < 1e-8, `residual power ${total}`);
});

test("the polyphase path and the per-sample path agree", () => {
  const x = Float32Array.from({ length: 3000 }, (_, n) => Math.sin(n * 0.01) * Math.cos(n * 0.37));
  const fast = resample({ sampleRate: 12000, channels: [x] }, 48000).channels[0]!;
  // 12000.5 Hz forces the general path at (nearly) the same ratio; compare interior samples.
  const slow = resample({ sampleRate: 12000, channels: [x] }, 48000.000001).channels[0]!;
  let worst = 0;
  for (let j = 200; j < fast.length - 200; j++) worst = Math.max(worst, Math.abs(fast[j]! - slow[j]!));
  assert.ok(worst < 1e-5, `max difference ${worst}`);
  assert.equal(resample({ sampleRate: 48000, channels: [x] }, 48000).channels[0], x, "same rate: unchanged");
  assert.throws(() => resample({ sampleRate: 48000, channels: [x] }, 0), /positive number of Hz/);
});
