import assert from "node:assert/strict";
import { test } from "node:test";
import { OptionError } from "../../../src/core/errors.ts";
import { createLoss, type LossConfig, type LossShape } from "../../../src/train/losses/index.ts";
import { gradcheck, Rng, randomArray } from "../../helpers/gradcheck.ts";

const small = { fftSizes: [16, 32], hopSizes: [4, 8], windowLengths: [12, 32] };

/**
 * Independent MR-STFT loss: direct O(N^2) DFT, torch.stft(center=True, pad_mode="reflect") framing written
 * out, window of W samples starting at floor((N - W) / 2). rows [rows, n].
 */
function naiveMrstft(
  x: Float64Array,
  y: Float64Array,
  rows: number,
  n: number,
  resolutions: { fftSizes: number[]; hopSizes: number[]; windowLengths: number[] },
  eps = 1e-8,
): number {
  let total = 0;
  resolutions.fftSizes.forEach((N, index) => {
    const hop = resolutions.hopSizes[index]!;
    const W = resolutions.windowLengths[index]!;
    const left = Math.floor((N - W) / 2);
    const window = (i: number) =>
      i < left || i >= left + W ? 0 : 0.5 - 0.5 * Math.cos((2 * Math.PI * (i - left)) / W);
    const magnitudes = (signal: Float64Array, row: number): number[] => {
      const padded: number[] = [];
      for (let i = N / 2; i >= 1; i--) padded.push(signal[row * n + i]!);
      for (let i = 0; i < n; i++) padded.push(signal[row * n + i]!);
      for (let i = n - 2; i >= n - 1 - N / 2; i--) padded.push(signal[row * n + i]!);
      const out: number[] = [];
      for (let start = 0; start + N <= padded.length; start += hop) {
        for (let k = 0; k <= N / 2; k++) {
          let re = 0;
          let im = 0;
          for (let i = 0; i < N; i++) {
            const v = padded[start + i]! * window(i);
            re += v * Math.cos((2 * Math.PI * k * i) / N);
            im -= v * Math.sin((2 * Math.PI * k * i) / N);
          }
          out.push(Math.sqrt(Math.max(re * re + im * im, eps)));
        }
      }
      return out;
    };
    let error = 0;
    let energy = 0;
    let log = 0;
    let count = 0;
    for (let r = 0; r < rows; r++) {
      const X = magnitudes(x, r);
      const Y = magnitudes(y, r);
      assert.equal(X.length, (1 + Math.floor(n / hop)) * (N / 2 + 1), "frame count 1 + floor(n / hop)");
      for (let i = 0; i < X.length; i++) {
        error += (Y[i]! - X[i]!) ** 2;
        energy += Y[i]! ** 2;
        log += Math.abs(Math.log(Y[i]!) - Math.log(X[i]!));
        count++;
      }
    }
    total += Math.sqrt(error) / Math.sqrt(energy) + log / count;
  });
  return total / resolutions.fftSizes.length;
}

function checkGradient(config: LossConfig, shape: LossShape, seed: number): void {
  const rng = new Rng(seed);
  const size = shape.batch * shape.channels * shape.length;
  const prediction = randomArray(size, rng);
  const target = randomArray(size, rng);
  const loss = createLoss(config);
  loss.forward(prediction, target, shape);
  const grad = new Float64Array(size);
  loss.backward(grad);
  gradcheck(() => loss.forward(prediction, target, shape), [{ name: loss.name, values: prediction, grad }], {
    atol: 1e-6,
    rtol: 1e-5,
  });
}

test("MR-STFT loss matches a direct-DFT computation of auraloss's definition", () => {
  const rng = new Rng(11);
  const shape = { batch: 2, channels: 1, length: 45 };
  const x = randomArray(90, rng);
  const y = randomArray(90, rng);
  const value = createLoss({ type: "mrstft", ...small }).forward(x, y, shape);
  const expected = naiveMrstft(x, y, 2, 45, small);
  assert.ok(Math.abs(value - expected) < 1e-10, `${value} vs ${expected}`);
  // with a mask the frames come from the rows after it
  const masked = createLoss({ type: "mrstft", ...small, maskFirst: 6 }).forward(x, y, shape);
  const crop = (a: Float64Array) =>
    Float64Array.from({ length: 78 }, (_, i) => a[Math.floor(i / 39) * 45 + 6 + (i % 39)]!);
  assert.ok(Math.abs(masked - naiveMrstft(crop(x), crop(y), 2, 39, small)) < 1e-10);
});

test("MR-STFT loss is 0 for identical signals and grows with a gain error", () => {
  const length = 4096;
  const signal = Float64Array.from({ length }, (_, n) => 0.5 * Math.sin(n * 0.05) + 0.2 * Math.sin(n * 0.9));
  const shape = { batch: 1, channels: 1, length };
  const loss = createLoss({ type: "mrstft" }); // auraloss defaults: 1024/2048/512
  assert.equal(loss.forward(signal, signal, shape), 0);
  const grad = new Float64Array(length);
  loss.backward(grad);
  assert.ok(
    grad.every((g) => g === 0),
    "zero gradient at the optimum",
  );
  const values = [1.05, 1.2, 1.5, 2].map((gain) =>
    loss.forward(
      signal.map((v) => v * gain),
      signal,
      shape,
    ),
  );
  for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!, `${values}`);
  // a pure gain g gives spectral convergence |g - 1| and log error |log g| (exactly, where no magnitude sits
  // on the sqrt(eps) floor: noise, not the sines above, whose spectra are mostly floor)
  const noise = randomArray(length, new Rng(2));
  const doubled = noise.map((v) => 2 * v);
  assert.ok(Math.abs(loss.forward(doubled, noise, shape) - (1 + Math.log(2))) < 1e-9);
});

test("MR-STFT gradients match finite differences (small FFTs, masks, channels, pre-emphasis, weights)", () => {
  const configs: LossConfig[] = [
    { type: "mrstft", ...small },
    { type: "mrstft", ...small, maskFirst: 7 },
    { type: "mrstft", ...small, preEmphasis: { type: "highpass", coefficient: 0.85 } },
    { type: "mrstft", ...small, preEmphasis: { type: "aweighting", taps: 7 }, maskFirst: 3 },
    { type: "mrstft", ...small, spectralConvergenceWeight: 0.3, logMagnitudeWeight: 2 },
    { type: "mrstft", fftSizes: [8], hopSizes: [3], windowLengths: [5], logMagnitudeWeight: 0 },
  ];
  let seed = 20;
  for (const config of configs) checkGradient(config, { batch: 2, channels: 2, length: 41 }, seed++);
});

test("MR-STFT rejects rows shorter than the largest FFT size, naming fftSizes", () => {
  const loss = createLoss({ type: "mrstft", ...small, maskFirst: 10 });
  const x = new Float64Array(2 * 40);
  const longer = new Float64Array(2 * 42);
  assert.throws(
    () => loss.forward(x, x, { batch: 2, channels: 1, length: 40 }),
    (e: unknown) => e instanceof OptionError && /fftSizes/.test(e.message) && /30 samples/.test(e.message),
  );
  assert.doesNotThrow(() => loss.forward(longer, longer, { batch: 2, channels: 1, length: 42 }));
});
