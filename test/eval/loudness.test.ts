import assert from "node:assert/strict";
import { test } from "node:test";
import { biquadMagnitudeDb } from "../../src/dsp/biquad.ts";
import {
  BS1770_STAGE1_48K,
  BS1770_STAGE2_48K,
  integratedLoudness,
  kWeighting,
} from "../../src/eval/loudness.ts";

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} +- ${tolerance}, got ${actual}`,
  );
}

function sine(hz: number, amplitude: number, seconds: number, rate: number): Float32Array {
  return Float32Array.from(
    { length: Math.round(seconds * rate) },
    (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / rate),
  );
}

/**
 * The reference value, from the standard alone: a 997 Hz sine of amplitude 0.1 has mean square 0.005
 * (-23.0103 dB); the K-weighting (BS.1770-4 Tables 1 and 2 at 48 kHz) adds G = +0.6910 dB at 997 Hz
 * (+0.6977 dB at 1 kHz; the -0.691 offset is the 997 Hz gain); so
 *   L = -0.691 + 10 log10(0.005) + G = -23.0103 LUFS (the level of EBU Tech 3341 case 1: -23.0 +- 0.1).
 */
const K_GAIN_997_DB =
  biquadMagnitudeDb(BS1770_STAGE1_48K, 997, 48000) + biquadMagnitudeDb(BS1770_STAGE2_48K, 997, 48000);
const EXPECTED_LUFS = -0.691 + 10 * Math.log10(0.005) + K_GAIN_997_DB;

test("K-weighting derived for 48 kHz reproduces BS.1770-4 Tables 1 and 2", () => {
  const [shelf, highpass] = kWeighting(48000);
  for (const key of ["b0", "b1", "b2", "a1", "a2"] as const) {
    close(shelf[key], BS1770_STAGE1_48K[key], 1e-12, `stage 1 ${key}`);
    close(highpass[key], BS1770_STAGE2_48K[key], 1e-12, `stage 2 ${key}`);
  }
  close(K_GAIN_997_DB, 0.691, 0.001, "K-weighting gain at 997 Hz");
  close(EXPECTED_LUFS, -23.0103, 0.0001, "reference value");
  // Other rates keep the response at 997 Hz within a few hundredths of a dB.
  for (const rate of [44100, 96000]) {
    const [s, h] = kWeighting(rate);
    const gain = biquadMagnitudeDb(s, 997, rate) + biquadMagnitudeDb(h, 997, rate);
    close(gain, K_GAIN_997_DB, 0.02, `gain at ${rate} Hz`);
  }
  assert.throws(() => kWeighting(3000), /above 3364 Hz/);
});

test("a 997 Hz sine at -20 dBFS (amplitude 0.1, mono) reads -23.01 LUFS at 48, 44.1 and 96 kHz", () => {
  const at48 = integratedLoudness([sine(997, 0.1, 10, 48000)], 48000);
  // Tolerance: the filters' start-up transient and block edges cutting the sine mid-cycle, < 0.001 LU.
  close(at48, EXPECTED_LUFS, 0.005, "48 kHz");
  close(at48, -23.0, 0.02, "about -23.0");
  for (const rate of [44100, 96000]) {
    close(integratedLoudness([sine(997, 0.1, 10, rate)], rate), at48, 0.05, `${rate} Hz`);
  }
});

test("two identical channels read 10 log10 2 = +3.01 dB louder than one", () => {
  const x = sine(997, 0.1, 5, 48000);
  const mono = integratedLoudness([x], 48000);
  close(integratedLoudness([x, x], 48000), mono + 10 * Math.log10(2), 1e-9, "stereo");
  // Channel weights: G = 0 drops a channel.
  close(integratedLoudness([x, x], 48000, { channelWeights: [1, 0] }), mono, 1e-9, "weights");
});

test("gating: a tone followed by silence or a much quieter tone reads the tone's loudness", () => {
  const rate = 48000;
  const tone = sine(997, 0.1, 5, rate);
  const toneLoudness = integratedLoudness([tone], rate);
  // 5 s tone + 5 s silence. Blocks of 400 ms every 100 ms: j = 0..46 lie wholly in the tone, j = 47, 48, 49
  // hold 75, 50 and 25 % of it (-1.2, -3, -6 LU: above both gates), the rest are silent (-inf, below -70).
  // So the mean energy is (47 + 0.75 + 0.5 + 0.25) / 50 of the tone's.
  const silence = new Float32Array(5 * rate);
  const withSilence = Float32Array.from([...tone, ...silence]);
  close(integratedLoudness([withSilence], rate), toneLoudness + 10 * Math.log10(48.5 / 50), 0.005, "silence");

  // 5 s tone + 5 s of the tone at -30 dB (-53 LUFS: passes the absolute gate). The absolute-gated mean is
  // about -3 LU, so the relative gate (-13 LU) drops the 47 quiet blocks; the three straddling blocks hold
  // f + (1 - f) 10^-3 of the tone's energy.
  const quiet = sine(997, 0.1 * 10 ** (-30 / 20), 5, rate);
  const withQuiet = Float32Array.from([...tone, ...quiet]);
  const straddling = [0.75, 0.5, 0.25].reduce((sum, f) => sum + f + (1 - f) * 1e-3, 0);
  close(
    integratedLoudness([withQuiet], rate),
    toneLoudness + 10 * Math.log10((47 + straddling) / 50),
    0.005,
    "quiet tail",
  );
  // Without the relative gate the quiet half would pull the result down by about 3 LU.
  const ungated = toneLoudness + 10 * Math.log10((47 + straddling + 47e-3) / 97);
  assert.ok(integratedLoudness([withQuiet], rate) - ungated > 2.5);
});

test("silence is -Infinity LUFS, audio shorter than one 400 ms block is NaN", () => {
  assert.equal(integratedLoudness([new Float32Array(48000)], 48000), Number.NEGATIVE_INFINITY);
  // A tone at -80 LUFS: every block is below the absolute gate.
  const faint = sine(997, 0.1 * 10 ** (-57 / 20), 2, 48000);
  assert.equal(integratedLoudness([faint], 48000), Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(integratedLoudness([new Float32Array(19199)], 48000)));
  assert.ok(Number.isFinite(integratedLoudness([sine(997, 0.1, 0.4, 48000)], 48000)));
  assert.throws(() => integratedLoudness([new Float32Array(10), new Float32Array(9)], 48000), /channel 1/);
});
