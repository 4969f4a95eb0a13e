import assert from "node:assert/strict";
import { test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import {
  compare,
  computeMetrics,
  LSD_POWER_FLOOR,
  MRSTFT_SEGMENT_SAMPLES,
  mrstftDistance,
  mrstftResolutions,
  octaveBands,
} from "../../src/eval/metrics.ts";
import { createLoss } from "../../src/train/losses/index.ts";
import { noise } from "../helpers/signals.ts";

const RATE = 48000;

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} +- ${tolerance}, got ${actual}`,
  );
}

function sine(hz: number, amplitude: number, frames: number, rate = RATE): Float32Array {
  return Float32Array.from({ length: frames }, (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / rate));
}

const scale = (x: Float32Array, g: number) => x.map((v) => v * g);

test("time-domain metrics of a tiny pair, by hand", () => {
  // y = [1, -2, 3, 0], yhat = [0.5, -1, 2, 1]  =>  e = y - yhat = [0.5, -1, 1, -1]
  const y = Float32Array.of(1, -2, 3, 0);
  const yhat = Float32Array.of(0.5, -1, 2, 1);
  const m = computeMetrics([yhat], [y], RATE);
  const errorEnergy = 0.25 + 1 + 1 + 1; // 3.25
  const signalEnergy = 1 + 4 + 9 + 0; // 14
  close(m.mse, errorEnergy / 4, 1e-15, "mse"); // 0.8125
  close(m.rmse, Math.sqrt(0.8125), 1e-15, "rmse");
  // mean e = -0.125; sum (e - mean)^2 = 0.625^2 + 0.875^2 + 1.125^2 + 0.875^2 = 3.1875
  close(m.errorStd, Math.sqrt(3.1875 / 4), 1e-15, "errorStd");
  close(m.esr, errorEnergy / signalEnergy, 1e-15, "esr"); // 0.2321
  close(m.snrDb, 10 * Math.log10(signalEnergy / errorEnergy), 1e-12, "snrDb"); // 6.342 dB
  // Pre-emphasis y[n] - 0.85 y[n-1] (zero before the start):
  //   e' = [0.5, -1 - 0.425, 1 + 0.85, -1 - 0.85] = [0.5, -1.425, 1.85, -1.85]
  //   y' = [1, -2 - 0.85, 3 + 1.7, 0 - 2.55]     = [1, -2.85, 4.7, -2.55]
  const emphasisedError = 0.5 ** 2 + 1.425 ** 2 + 1.85 ** 2 + 1.85 ** 2; // 9.125625
  const emphasisedSignal = 1 + 2.85 ** 2 + 4.7 ** 2 + 2.55 ** 2; // 37.715
  close(m.esrPreEmphasis, emphasisedError / emphasisedSignal, 1e-15, "esrPreEmphasis");
  // Too short for the 400 ms loudness blocks and for any STFT resolution.
  assert.ok(Number.isNaN(m.loudnessDifferenceDb));
  assert.ok(Number.isNaN(m.mrstft));
  assert.deepEqual(m.mrstftFftSizes, []);
});

test("stereo is scored as one signal: sums run over both channels", () => {
  const left = { y: Float32Array.of(1, 1), yhat: Float32Array.of(0, 1) }; // e = [1, 0]
  const right = { y: Float32Array.of(2, 0), yhat: Float32Array.of(2, 2) }; // e = [0, -2]
  const m = computeMetrics([left.yhat, right.yhat], [left.y, right.y], RATE);
  close(m.mse, (1 + 4) / 4, 1e-15, "mse");
  close(m.esr, (1 + 4) / (1 + 1 + 4), 1e-15, "esr");
  // mean e = -1/4; sum (e - mean)^2 = 1.25^2 + 0.25^2 + 0.25^2 + 1.75^2 = 4.75
  close(m.errorStd, Math.sqrt(4.75 / 4), 1e-15, "errorStd");
});

test("a gain error g gives ESR (1 - g)^2 and SNR -20 log10|1 - g| in every view", () => {
  const y = noise(RATE, 3, 0.1);
  for (const g of [0.9, 0.5, 1.25]) {
    const m = computeMetrics([scale(y, g)], [y], RATE);
    const esr = (1 - g) ** 2;
    close(m.esr, esr, 1e-7 * esr, `esr g=${g}`);
    close(m.snrDb, -20 * Math.log10(Math.abs(1 - g)), 1e-5, `snr g=${g}`);
    // Scaling commutes with every linear filter: pre-emphasis and each band see the same ratio.
    close(m.esrPreEmphasis, esr, 1e-7 * esr, `esrPreEmphasis g=${g}`);
    for (const band of m.bands) close(band.esr, esr, 1e-6 * esr, `band ${band.centerHz} g=${g}`);
    // Every bin scales by g^2 (noise at sigma 0.1 is far above the floor), loudness by 20 log10 g.
    close(m.logSpectralDistanceDb, Math.abs(20 * Math.log10(g)), 1e-5, `lsd g=${g}`);
    close(m.loudnessDifferenceDb, 20 * Math.log10(g), 1e-5, `loudness g=${g}`);
    // MR-STFT: spectral convergence |1 - g|, log magnitude |ln g| at every resolution.
    close(m.mrstft, Math.abs(1 - g) + Math.abs(Math.log(g)), 1e-5, `mrstft g=${g}`);
  }
});

test("identical signals: zero error, infinite SNR", () => {
  const y = noise(RATE, 4, 0.2);
  const m = computeMetrics([y], [y], RATE);
  assert.equal(m.mse, 0);
  assert.equal(m.rmse, 0);
  assert.equal(m.errorStd, 0);
  assert.equal(m.esr, 0);
  assert.equal(m.esrPreEmphasis, 0);
  assert.equal(m.snrDb, Number.POSITIVE_INFINITY);
  assert.equal(m.mrstft, 0);
  assert.equal(m.logSpectralDistanceDb, 0);
  assert.equal(m.loudnessDifferenceDb, 0);
  assert.ok(m.bands.every((band) => band.esr === 0));
});

test("silent target: documented infinities instead of throwing", () => {
  const silent = new Float32Array(RATE);
  const y = noise(RATE, 5, 0.1);
  const wrong = computeMetrics([y], [silent], RATE);
  assert.equal(wrong.esr, Number.POSITIVE_INFINITY);
  assert.equal(wrong.snrDb, Number.NEGATIVE_INFINITY);
  assert.equal(wrong.esrPreEmphasis, Number.POSITIVE_INFINITY);
  assert.equal(wrong.loudnessDifferenceDb, Number.POSITIVE_INFINITY); // output loud, target -inf LUFS
  assert.ok(Number.isFinite(wrong.mrstft) && wrong.mrstft > 0);
  const both = computeMetrics([silent], [silent], RATE);
  assert.equal(both.esr, 0);
  assert.equal(both.snrDb, Number.POSITIVE_INFINITY);
  assert.equal(both.loudnessDifferenceDb, 0); // both -Infinity LUFS
  assert.equal(both.logSpectralDistanceDb, 0); // every bin at the floor
  assert.equal(both.mrstft, 0);
});

test("pre-emphasis ESR of a pure DC error is small", () => {
  // Target: 5 kHz sine, amplitude 0.5, 1 s (exactly 5000 cycles); output = target - c.
  const c = 0.01;
  const y = sine(5000, 0.5, RATE);
  const m = computeMetrics([y.map((v) => v - c)], [y], RATE);
  // Plain: sum e^2 = N c^2, sum y^2 = N A^2 / 2  =>  ESR = 2 c^2 / A^2 = 8e-4.
  close(m.esr, (2 * c * c) / 0.25, 1e-6, "esr");
  // Pre-emphasised error: c at n = 0, then c (1 - 0.85) = 0.15 c; signal: the sine times
  // |H(w)|^2 = 1 + 0.85^2 - 2 0.85 cos(w), w = 2 pi 5000 / 48000 (0.3737).
  const h2 = 1 + 0.85 ** 2 - 2 * 0.85 * Math.cos((2 * Math.PI * 5000) / RATE);
  const expected = (c * c * (1 + 0.0225 * (RATE - 1))) / ((RATE * 0.25 * h2) / 2);
  close(m.esrPreEmphasis, expected, 0.01 * expected, "esrPreEmphasis");
  assert.ok(m.esrPreEmphasis < 0.1 * m.esr, `${m.esrPreEmphasis} vs ${m.esr}`);
});

test("octave bands: centres 31.25 Hz * 2^k below Nyquist, edges at centre / sqrt 2 and centre * sqrt 2", () => {
  const at48 = octaveBands(48000);
  assert.deepEqual(
    at48.map((b) => b.centerHz),
    [31.25, 62.5, 125, 250, 500, 1000, 2000, 4000, 8000, 16000],
  );
  close(at48[5]!.lowHz, 707.1067811865476, 1e-9, "1 kHz low edge");
  close(at48[5]!.highHz, 1414.213562373095, 1e-9, "1 kHz high edge");
  close(at48[9]!.highHz, 16000 * Math.SQRT2, 1e-9, "16 kHz high edge below 24 kHz");
  // At 44.1 kHz the 16 kHz band's upper edge (22.6 kHz) is past Nyquist: the band runs to Nyquist.
  const at44 = octaveBands(44100);
  assert.equal(at44.length, 10);
  assert.equal(at44[9]!.highHz, 22050);
  assert.equal(octaveBands(96000).at(-1)!.centerHz, 32000);
});

test("band ESR puts a band-limited error in its octave", () => {
  // Target: white noise (sigma 0.1); error: a 1 kHz sine of amplitude 0.01, the 1 kHz band's centre.
  const frames = 2 * RATE;
  const y = noise(frames, 6, 0.1);
  const error = sine(1000, 0.01, frames);
  const m = computeMetrics([y.map((v, n) => v - error[n]!)], [y], RATE);
  const esr = new Map(m.bands.map((b) => [b.centerHz, b.esr]));
  const peak = esr.get(1000)!;
  assert.ok(
    m.bands.every((b) => b.esr <= peak),
    "the 1 kHz band has the largest ESR",
  );
  // Expected: error power in the band = A^2 / 2 * |H(1 kHz)|^2 (-0.53 dB at the centre: each 4th-order
  // Butterworth edge gives 16/17); noise power in the band ~ sigma^2 * (1414 - 707) / 24000 (the filter's
  // noise bandwidth is about its -3 dB width).
  const expected = (0.5e-4 * (16 / 17) ** 2) / (0.01 * ((1414.2 - 707.1) / 24000));
  close(peak, expected, 0.2 * expected, "1 kHz band ESR");
  // Neighbours see the sine half an octave outside one of their edges: |H|^2 = 1 / (1 + 2^4) = 1/17
  // (-12.3 dB) instead of (16/17)^2, against half (500 Hz band) or twice (2 kHz band) the noise power:
  //   ESR(500) / ESR(1k) = (1/17) / (16/17)^2 * 2 = 0.133,  ESR(2k) / ESR(1k) = 0.033.
  // Bands further away see it at -36 dB and less.
  const leak = 1 / 17 / (16 / 17) ** 2;
  close(esr.get(500)! / peak, 2 * leak, 0.2 * leak, "500 Hz neighbour");
  close(esr.get(2000)! / peak, leak / 2, 0.05 * leak, "2 kHz neighbour");
  for (const [hz, value] of esr) {
    if (hz <= 250 || hz >= 4000) assert.ok(value < 2e-3 * peak, `${hz} Hz band: ${value} vs ${peak}`);
  }
  // Broadband ESR sees the error against the whole signal: far smaller than the 1 kHz band's.
  close(m.esr, 0.5e-4 / 0.01, 0.1 * (0.5e-4 / 0.01), "broadband esr");
});

test("log-spectral distance of a signal against itself scaled by 2 is 10 log10 4 = 6.02 dB", () => {
  const y = noise(RATE, 7, 0.1);
  const m = computeMetrics([scale(y, 2)], [y], RATE);
  close(m.logSpectralDistanceDb, 10 * Math.log10(4), 1e-5, "lsd");
  // Below the floor (1e-10 per bin, -100 dB) differences do not count: 1e-7 white noise vs silence.
  assert.equal(LSD_POWER_FLOOR, 1e-10);
  const faint = noise(RATE, 8, 1e-7);
  const silence = new Float32Array(RATE);
  assert.equal(computeMetrics([faint], [silence], RATE).logSpectralDistanceDb, 0);
});

test("MR-STFT: identical signals give 0; the value is the training loss's on the same rows", () => {
  const y = noise(8192, 9, 0.1);
  const yhat = noise(8192, 10, 0.1).map((v, n) => 0.3 * v + y[n]!);
  assert.equal(mrstftDistance([y], [y]).value, 0);
  const { value, fftSizes } = mrstftDistance([yhat], [y]);
  assert.deepEqual(fftSizes, [1024, 2048, 512]);
  const loss = createLoss({ type: "mrstft" }).forward(yhat, y, { batch: 1, channels: 1, length: 8192 });
  close(value, loss, 1e-12, "same as createLoss");
});

test("MR-STFT: short audio scales the resolutions down and says so; long audio goes by segments", () => {
  assert.deepEqual(
    mrstftResolutions(1000)!.map((r) => [r.fftSize, r.hopSize, r.windowLength]),
    [
      [256, 30, 150],
      [512, 60, 300],
      [128, 13, 60], // 50 / 4 = 12.5 rounds to 13
    ],
  );
  assert.equal(mrstftResolutions(15), null);
  const y = noise(1000, 11, 0.1);
  const short = computeMetrics([scale(y, 0.5)], [y], RATE);
  assert.deepEqual(short.mrstftFftSizes, [256, 512, 128]);
  close(short.mrstft, 0.5 + Math.log(2), 1e-5, "gain 0.5 at the scaled resolutions");

  // 2^20 + 4096 samples: two segments, [0, 2^19) and [2^19, 2^20 + 4096), averaged by length.
  const frames = 2 * MRSTFT_SEGMENT_SAMPLES + 4096;
  const long = noise(frames, 12, 0.1);
  const other = noise(frames, 13, 0.02).map((v, n) => v + long[n]!);
  const cut = MRSTFT_SEGMENT_SAMPLES;
  const lossOf = (from: number, to: number) =>
    createLoss({ type: "mrstft" }).forward(other.subarray(from, to), long.subarray(from, to), {
      batch: 1,
      channels: 1,
      length: to - from,
    });
  const expected = (cut * lossOf(0, cut) + (frames - cut) * lossOf(cut, frames)) / frames;
  close(mrstftDistance([other], [long]).value, expected, 1e-9, "segment-weighted mean");
});

test("mismatched channels or lengths are errors; compare scores the input as identity", () => {
  const y = noise(RATE, 14, 0.1);
  assert.throws(
    () => computeMetrics([y, y], [y], RATE),
    (error: unknown) => {
      assert.ok(error instanceof OptionError);
      assert.match(error.message, /output has 2 channel\(s\) but the target has 1/);
      return true;
    },
  );
  assert.throws(() => computeMetrics([y.subarray(1)], [y], RATE), /lengths must match/);
  assert.throws(() => computeMetrics([], [], RATE), /no channels/);
  assert.throws(() => compare([y], [y], [y, y], RATE), /input has 2 channel\(s\)/);

  const comparison = compare([scale(y, 0.5)], [y], [y], RATE);
  assert.equal(comparison.sampleRate, RATE);
  assert.equal(comparison.frames, RATE);
  close(comparison.model.esr, 0.25, 1e-12, "model esr");
  assert.equal(comparison.identity.esr, 0);
  assert.equal(comparison.identity.snrDb, Number.POSITIVE_INFINITY);
});
