import assert from "node:assert/strict";
import { test } from "node:test";
import { MlpModel } from "../../../src/nn/models/mlp.ts";
import { RnnModel } from "../../../src/nn/models/rnn.ts";
import { TcnModel } from "../../../src/nn/models/tcn.ts";
import { checkModelGradients, randomSequence } from "../../helpers/contracts.ts";
import { Rng } from "../../helpers/gradcheck.ts";

const rng = new Rng(21);

test("RnnModel (LSTM and GRU, mono and stereo, with and without input skip): gradients", () => {
  for (const cell of ["lstm", "gru"] as const) {
    for (const [channels, inputSkip] of [
      [1, true],
      [2, false],
    ] as const) {
      const model = new RnnModel({ cell, hidden: 3, channels, inputSkip }, { seed: 1, floatType: "float64" });
      assert.equal(model.receptiveField, 1);
      checkModelGradients(model, randomSequence(2, channels, 5, rng), 2);
    }
  }
});

test("RnnModel with input skip outputs input + head(h)", () => {
  const skip = new RnnModel({ cell: "lstm", hidden: 2 }, { seed: 4, floatType: "float64" });
  const plain = new RnnModel(
    { cell: "lstm", hidden: 2, inputSkip: false },
    { seed: 4, floatType: "float64" },
  );
  const x = randomSequence(1, 1, 6, rng);
  const withSkip = Float64Array.from(skip.forward(x).data);
  const without = plain.forward(x).data;
  for (let t = 0; t < 6; t++) assert.ok(Math.abs(withSkip[t]! - without[t]! - x.data[t]!) < 1e-12);
});

test("TcnModel (gated and not, valid and causal padding): gradients and receptive field", () => {
  const valid = new TcnModel(
    { width: 3, kernelSize: 2, dilations: [1, 2, 4] },
    { seed: 3, floatType: "float64" },
  );
  assert.equal(valid.receptiveField, 8);
  const x = randomSequence(2, 1, 12, rng);
  assert.equal(valid.forward(x).length, 12 - 7);
  checkModelGradients(valid, x, 4);
  const causal = new TcnModel(
    { width: 2, kernelSize: 3, dilations: [1, 3], gated: false, activation: "tanh", padding: "causal" },
    { seed: 5, floatType: "float64" },
  );
  assert.equal(causal.forward(x).length, 12);
  checkModelGradients(causal, x, 6);
  const stereo = new TcnModel(
    { channels: 2, width: 2, kernelSize: 2, dilations: [1, 2] },
    { seed: 7, floatType: "float64" },
  );
  checkModelGradients(stereo, randomSequence(1, 2, 6, rng), 8);
});

test("TcnModel in valid mode equals causal mode on the samples that have full history", () => {
  const config = { width: 3, kernelSize: 3, dilations: [1, 2] };
  const valid = new TcnModel(config, { seed: 9, floatType: "float64" });
  const causal = new TcnModel({ ...config, padding: "causal" }, { seed: 9, floatType: "float64" });
  const x = randomSequence(1, 1, 20, rng);
  const a = Float64Array.from(valid.forward(x).data);
  const b = causal.forward(x).data.subarray(20 - a.length);
  for (let t = 0; t < a.length; t++) assert.ok(Math.abs(a[t]! - b[t]!) < 1e-12);
});

test("MlpModel: gradients, window unfolding", () => {
  const model = new MlpModel({ window: 4, hidden: [3, 2] }, { seed: 10, floatType: "float64" });
  assert.equal(model.receptiveField, 4);
  const x = randomSequence(2, 1, 7, rng);
  assert.equal(model.forward(x).length, 4);
  checkModelGradients(model, x, 11);
  // Output t depends on inputs t .. t + window - 1 only.
  const y0 = Float64Array.from(model.forward(x).data);
  (x.data as Float64Array)[6] = 100; // the last input of batch 0 affects only its last output
  const y1 = model.forward(x).data;
  assert.deepEqual(Array.from(y1.subarray(0, 3)), Array.from(y0.subarray(0, 3)));
  assert.notEqual(y1[3], y0[3]);
});
