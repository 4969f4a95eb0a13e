import assert from "node:assert/strict";
import { test } from "node:test";
import { createLoss, type LossConfig, type LossShape } from "../../../src/train/losses/index.ts";
import { gradcheck, Rng, randomArray } from "../../helpers/gradcheck.ts";

/** Float64 central-difference check of d loss / d prediction for random prediction and target. */
function checkGradient(config: LossConfig, shape: LossShape, seed: number): void {
  const rng = new Rng(seed);
  const size = shape.batch * shape.channels * shape.length;
  const prediction = randomArray(size, rng);
  const target = randomArray(size, rng);
  const loss = createLoss(config);
  loss.forward(prediction, target, shape);
  const grad = new Float64Array(size);
  loss.backward(grad);
  gradcheck(() => loss.forward(prediction, target, shape), [{ name: loss.name, values: prediction, grad }]);
}

const shape23: LossShape = { batch: 1, channels: 2, length: 3 };
// rows: prediction [1, 2, 3], [0, 0, 0]; target [1, 0, 1], [2, -2, 2]
const p23 = Float64Array.of(1, 2, 3, 0, 0, 0);
const t23 = Float64Array.of(1, 0, 1, 2, -2, 2);

test("MSE and L1 match hand computations", () => {
  // errors p - t: [0, 2, 2], [-2, 2, -2]; squares 0 + 4 + 4 + 4 + 4 + 4 = 20; absolutes 0 + 2 * 5 = 10
  assert.equal(createLoss({ type: "mse" }).forward(p23, t23, shape23), 20 / 6);
  assert.equal(createLoss({ type: "l1" }).forward(p23, t23, shape23), 10 / 6);
  // maskFirst 1 keeps [2, 2] and [2, -2]: squares 16 / 4, absolutes 8 / 4
  assert.equal(createLoss({ type: "mse", maskFirst: 1 }).forward(p23, t23, shape23), 4);
  assert.equal(createLoss({ type: "l1", maskFirst: 1 }).forward(p23, t23, shape23), 2);
});

test("ESR is batch-wise: sum (y - yhat)^2 / (sum y^2 + N eps)", () => {
  // target energy 1 + 0 + 1 + 4 + 4 + 4 = 14, error energy 20
  const esr = createLoss({ type: "esr", eps: 1e-3 }).forward(p23, t23, shape23);
  assert.ok(Math.abs(esr - 20 / (14 + 6e-3)) < 1e-15);
  const rng = new Rng(5);
  const target = randomArray(2 * 3 * 50, rng);
  const shape = { batch: 2, channels: 3, length: 50 };
  const loss = createLoss({ type: "esr" });
  assert.equal(loss.forward(target, target, shape), 0);
  const zeros = loss.forward(new Float64Array(target.length), target, shape);
  assert.ok(zeros < 1 && zeros > 1 - 1e-6, `ESR of zeros ${zeros}`);
  // halving the prediction leaves a quarter of the energy as error
  const half = target.map((v) => v / 2);
  assert.ok(Math.abs(loss.forward(half, target, shape) - 0.25) < 1e-6);
});

test("DC loss is the per-row squared mean error over the batch-wide target mean square", () => {
  // mean errors y - yhat per row: (0 - 2 - 2) / 3 = -4/3, (2 - 2 + 2) / 3 = 2/3; target mean square 14 / 6
  const expected = (16 / 9 + 4 / 9) / 2 / (14 / 6 + 1e-8);
  const dc = createLoss({ type: "dc" }).forward(p23, t23, shape23);
  assert.ok(Math.abs(dc - expected) < 1e-14, `${dc} vs ${expected}`);
  // a constant offset of 0.1 on a zero-mean target of mean square s gives 0.01 / s; a sine has none
  const length = 1000;
  const sine = Float64Array.from({ length }, (_, n) => Math.sin((2 * Math.PI * 5 * n) / length));
  const shifted = sine.map((v) => v + 0.1);
  const loss = createLoss({ type: "dc" });
  assert.ok(Math.abs(loss.forward(shifted, sine, { batch: 1, channels: 1, length }) - 0.01 / 0.5) < 1e-9);
  // opposite offsets in two rows do not cancel
  const both = Float64Array.from([...sine.map((v) => v + 0.1), ...sine.map((v) => v - 0.1)]);
  const targets = Float64Array.from([...sine, ...sine]);
  assert.ok(Math.abs(loss.forward(both, targets, { batch: 2, channels: 1, length }) - 0.02) < 1e-9);
});

test("maskFirst: masked samples change nothing and get zero gradient; the loss equals the cropped rows'", () => {
  const rng = new Rng(9);
  const shape = { batch: 2, channels: 2, length: 40 };
  const mask = 7;
  const prediction = randomArray(160, rng);
  const target = randomArray(160, rng);
  const cropped = (a: Float64Array) =>
    Float64Array.from({ length: 4 * 33 }, (_, i) => a[Math.floor(i / 33) * 40 + mask + (i % 33)]!);
  const configs: LossConfig[] = [
    { type: "mse" },
    { type: "l1" },
    { type: "esr" },
    { type: "dc" },
    { type: "esr", preEmphasis: { type: "highpass" } },
    { type: "mse", preEmphasis: { type: "aweighting", taps: 11 } },
  ];
  for (const config of configs) {
    const masked = createLoss({ ...config, maskFirst: mask });
    const plain = createLoss(config);
    const value = masked.forward(prediction, target, shape);
    const reference = plain.forward(cropped(prediction), cropped(target), { ...shape, length: 33 });
    assert.ok(Math.abs(value - reference) < 1e-14, `${masked.name}: ${value} vs ${reference}`);
    const grad = new Float64Array(160);
    masked.backward(grad);
    for (let row = 0; row < 4; row++) {
      for (let t = 0; t < mask; t++) assert.equal(grad[row * 40 + t], 0, `${masked.name} row ${row} t ${t}`);
    }
    const disturbed = Float64Array.from(prediction);
    for (let row = 0; row < 4; row++) disturbed[row * 40 + 3] = 100;
    assert.equal(masked.forward(disturbed, target, shape), value);
  }
});

test("gradients of MSE, L1, ESR and DC match finite differences, with every pre-emphasis and a mask", () => {
  const shape = { batch: 2, channels: 2, length: 24 };
  const filters = [
    undefined,
    { type: "highpass", coefficient: 0.85 },
    { type: "highpass", coefficient: 0.95 },
    { type: "folded", coefficient: 0.85 },
    { type: "aweighting", sampleRate: 44100, taps: 9 },
  ] as const;
  let seed = 1;
  for (const type of ["mse", "l1", "esr", "dc"] as const) {
    for (const preEmphasis of filters) {
      for (const maskFirst of [0, 5]) {
        checkGradient({ type, maskFirst, ...(preEmphasis ? { preEmphasis } : {}) }, shape, seed++);
      }
    }
  }
});

test("backward adds into the gradient buffer and works on float32 inputs", () => {
  const rng = new Rng(3);
  const shape = { batch: 1, channels: 1, length: 32 };
  const prediction = randomArray(32, rng);
  const target = randomArray(32, rng);
  const loss = createLoss({ type: "esr", preEmphasis: { type: "highpass" } });
  const value = loss.forward(prediction, target, shape);
  const once = new Float64Array(32);
  loss.backward(once);
  const twice = new Float64Array(32);
  loss.backward(twice);
  loss.backward(twice);
  for (let i = 0; i < 32; i++) assert.ok(Math.abs(twice[i]! - 2 * once[i]!) < 1e-15);
  const value32 = loss.forward(Float32Array.from(prediction), Float32Array.from(target), shape);
  assert.ok(Math.abs(value32 - value) < 1e-6);
  const grad32 = new Float32Array(32);
  loss.backward(grad32);
  for (let i = 0; i < 32; i++) assert.ok(Math.abs(grad32[i]! - once[i]!) < 1e-5);
});
