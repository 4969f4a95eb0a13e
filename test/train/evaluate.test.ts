import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/core/rng.ts";
import type { Pair } from "../../src/data/pair.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { evaluate, evaluateSources } from "../../src/train/evaluate.ts";

const RATE = 8000;

function signal(frames: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: frames }, () => 0.5 * rng.normal());
}

/** A pair whose target is a one-pole low-pass of the input, through tanh. */
function makePair(frames: number, channels: number, seed: number): Pair {
  const inputs = Array.from({ length: channels }, (_, c) => signal(frames, seed + c));
  const targets = inputs.map((x) => {
    const y = new Float32Array(x.length);
    let state = 0;
    for (let i = 0; i < x.length; i++) {
      state = 0.7 * state + 0.3 * x[i]!;
      y[i] = Math.tanh(2 * state);
    }
    return y;
  });
  return { input: { sampleRate: RATE, channels: inputs }, target: { sampleRate: RATE, channels: targets } };
}

/** The model over one region in one call (each pair channel a batch row): the reference. */
function wholeOutput(model: Model, pair: Pair, start: number, end: number): Float32Array[] {
  const rows = pair.input.channels.length;
  const length = end - start;
  const input = new Float32Array(rows * length);
  for (let r = 0; r < rows; r++) input.set(pair.input.channels[r]!.subarray(start, end), r * length);
  model.resetState();
  model.setCarryState(false);
  const out = model.forward({ data: input, batch: rows / model.channels, channels: model.channels, length });
  const n = out.length;
  return Array.from({ length: rows }, (_, r) => Float32Array.from(out.data.subarray(r * n, (r + 1) * n)));
}

function esrOf(
  outputs: Float32Array[],
  pair: Pair,
  start: number,
  skip: number,
): { error: number; signal: number } {
  let error = 0;
  let signalSum = 0;
  outputs.forEach((output, r) => {
    const target = pair.target.channels[r]!;
    for (let i = skip; i < output.length; i++) {
      const y = target[start + i]!;
      error += (y - output[i]!) ** 2;
      signalSum += y * y;
    }
  });
  return { error, signal: signalSum };
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 * Math.abs(b);
}

const models: [string, () => Model][] = [
  ["linear 8 taps", () => createModel({ architecture: "linear", taps: 8 }, { seed: 1 })],
  [
    "tcn width 4, 3 layers",
    () => createModel({ architecture: "tcn", width: 4, dilations: [1, 2, 4] }, { seed: 2 }),
  ],
  ["mlp window 16", () => createModel({ architecture: "mlp", window: 16, hidden: [4] }, { seed: 3 })],
  ["lstm hidden 4", () => createModel({ architecture: "lstm", hidden: 4 }, { seed: 4 })],
  ["gru hidden 3, 2 layers", () => createModel({ architecture: "gru", hidden: 3, layers: 2 }, { seed: 5 })],
];

for (const [name, build] of models) {
  test(`evaluate (${name}): chunked output and metrics equal one pass over the region exactly`, () => {
    const model = build();
    const pair = makePair(3000, 1, 11);
    const regions = [
      { start: 100, end: 1700 },
      { start: 2000, end: 3000 },
    ];
    const burnIn = model.recurrent ? 50 : 0;
    const history = model.receptiveField - 1;
    let error = 0;
    let signalSum = 0;
    const wholes = regions.map((region) => {
      const output = wholeOutput(model, pair, region.start, region.end);
      const e = esrOf(output, pair, region.start + history, burnIn);
      error += e.error;
      signalSum += e.signal;
      return output;
    });
    let first: number | undefined;
    for (const chunkLength of [1, 37, 512, 100000]) {
      const result = evaluate(model, pair, regions, { chunkLength, burnIn, keepOutput: true });
      assert.equal(result.outputs!.length, 2);
      result.outputs!.forEach((output, i) => {
        assert.equal(output.start, regions[i]!.start + history);
        assert.deepEqual(output.channels, wholes[i], `chunk ${chunkLength}, region ${i}`);
      });
      const frames = regions.reduce((sum, r) => sum + r.end - r.start - history - burnIn, 0);
      assert.equal(result.frames, frames);
      assert.equal(result.samples, frames);
      // Same outputs; the sums may round differently from the reference's per-region order, but for mono
      // audio they run in the same order whatever the chunk length.
      assert.ok(close(result.esr, error / signalSum), `chunk ${chunkLength}: ${result.esr}`);
      assert.ok(close(result.mse, error / frames));
      first ??= result.esr;
      assert.equal(result.esr, first);
      assert.equal(result.loss, null);
    }
  });
}

test("evaluate runs a mono model over each channel of stereo audio as batch rows", () => {
  const model = createModel({ architecture: "lstm", hidden: 3 }, { seed: 9 });
  const pair = makePair(1200, 2, 21);
  const whole = wholeOutput(model, pair, 0, 1200);
  const result = evaluate(model, pair, [{ start: 0, end: 1200 }], { chunkLength: 100, keepOutput: true });
  assert.deepEqual(result.outputs![0]!.channels, whole);
  const e = esrOf(whole, pair, 0, 0);
  assert.ok(close(result.esr, e.error / e.signal));
  assert.equal(result.samples, 2400);
  assert.equal(result.frames, 1200);
});

test("evaluate with a loss: MSE over the measured frames matches the metric; sources combine", () => {
  const model = createModel({ architecture: "tcn", width: 4, dilations: [1, 2, 4] }, { seed: 2 });
  const a = makePair(2000, 1, 31);
  const b = makePair(1500, 1, 41);
  const result = evaluateSources(
    model,
    [
      { pair: a, regions: [{ start: 0, end: 2000 }] },
      { pair: b, regions: [{ start: 500, end: 1500 }] },
    ],
    { chunkLength: 300, loss: { type: "mse" } },
  );
  assert.ok(Math.abs(result.loss! - result.mse) < 1e-7 * result.mse, `${result.loss} vs ${result.mse}`);
  const alone = evaluate(model, a, [{ start: 0, end: 2000 }]);
  const other = evaluate(model, b, [{ start: 500, end: 1500 }]);
  assert.equal(result.frames, alone.frames + other.frames);
  assert.ok(result.esr > Math.min(alone.esr, other.esr) && result.esr < Math.max(alone.esr, other.esr));
});

test("evaluate with a loss over a long stereo region: the loss runs in segments and still equals the whole-region MSE", () => {
  // 2^17 frames is the segment: 300 000 frames make two segments of 150 000 - (receptive field - 1) per row.
  const model = createModel({ architecture: "tcn", width: 3, dilations: [1, 2] }, { seed: 4 });
  const pair = makePair(300_000, 2, 51);
  const result = evaluate(model, pair, [{ start: 0, end: 300_000 }], {
    chunkLength: 65536,
    loss: { type: "mse" },
  });
  assert.ok(Math.abs(result.loss! - result.mse) < 1e-6 * result.mse, `${result.loss} vs ${result.mse}`);
  // A non-decomposable loss (ESR) is the frame-weighted mean of the segments' ESRs: close to the whole's.
  const esr = evaluate(model, pair, [{ start: 0, end: 300_000 }], {
    chunkLength: 65536,
    loss: { type: "esr" },
  });
  assert.ok(Math.abs(esr.loss! - esr.esr) < 0.02 * esr.esr, `${esr.loss} vs ${esr.esr}`);
});

test("evaluate: a region no longer than the receptive field yields nothing; bad options are rejected", () => {
  const model = createModel({ architecture: "linear", taps: 8 }, { seed: 1 });
  const pair = makePair(100, 1, 1);
  const result = evaluate(model, pair, [{ start: 0, end: 7 }]);
  assert.equal(result.frames, 0);
  assert.throws(
    () => evaluate(model, pair, [{ start: 0, end: 200 }]),
    /not within the audio's 0\.\.100 frames/,
  );
  assert.throws(() => evaluate(model, pair, [{ start: 0, end: 50 }], { chunkLength: 0 }), /chunkLength/);
  const stereo = createModel({ architecture: "linear", taps: 4, channels: 2 });
  assert.throws(() => evaluate(stereo, makePair(100, 3, 1), [{ start: 0, end: 50 }]), /model has 2 channels/);
});
