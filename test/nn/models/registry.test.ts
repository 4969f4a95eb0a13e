import assert from "node:assert/strict";
import { test } from "node:test";
import { OptionError } from "../../../src/core/errors.ts";
import { LinearModel } from "../../../src/nn/models/linear.ts";
import { describePreset, findPreset, PRESETS } from "../../../src/nn/models/presets.ts";
import { createModel, parseModelConfig } from "../../../src/nn/models/registry.ts";
import { SeedconvModel } from "../../../src/nn/models/seedconv.ts";
import { transferParameters } from "../../../src/nn/models/transfer.ts";
import { Adam } from "../../../src/train/optimizer.ts";
import { checkModelGradients, randomSequence } from "../../helpers/contracts.ts";
import { Rng } from "../../helpers/gradcheck.ts";

const rng = new Rng(31);

test("LinearModel is an FIR filter: gradients, receptive field, impulse response = taps", () => {
  const model = new LinearModel({ taps: 5 }, { seed: 1, floatType: "float64" });
  assert.equal(model.receptiveField, 5);
  checkModelGradients(model, randomSequence(2, 1, 9, rng), 2);
  // An impulse at the end of the history reads out the taps newest-first.
  const impulse = new Float64Array(9);
  impulse[4] = 1;
  const y = model.forward({ data: impulse, batch: 1, channels: 1, length: 9 }).data;
  const taps = model.parameters.value("fir.weight");
  const bias = model.parameters.value("fir.bias")[0]!;
  for (let k = 0; k < 5; k++) assert.ok(Math.abs(y[k]! - bias - taps[4 - k]!) < 1e-12);
});

test("SeedconvModel (tied and untied, each middle): gradients, causal output alignment", () => {
  for (const [middle, tied] of [
    ["perFilter", true],
    ["dense", false],
    ["none", true],
  ] as const) {
    const model = new SeedconvModel(
      { filters: 3, kernelSize: 3, middle, tied },
      { seed: 3, floatType: "float64" },
    );
    assert.equal(model.receptiveField, 5);
    const x = randomSequence(2, 1, 11, rng);
    assert.equal(model.forward(x).length, 7);
    checkModelGradients(model, x, 4);
  }
  // Causal: output t depends on inputs t .. t + receptiveField - 1 only, so changing the last input moves
  // only the last output.
  const model = new SeedconvModel({ filters: 2, kernelSize: 4 }, { seed: 5, floatType: "float64" });
  const x = randomSequence(1, 1, 12, rng);
  const before = Float64Array.from(model.forward(x).data);
  (x.data as Float64Array)[11]! += 1;
  const after = model.forward(x).data;
  assert.deepEqual(
    Array.from(after.subarray(0, before.length - 1)),
    Array.from(before.subarray(0, before.length - 1)),
  );
  assert.notEqual(after[before.length - 1], before[before.length - 1]);
  assert.deepEqual(
    model.parameters.entries.map((entry) => entry.name),
    ["conv.weight", "conv.bias", "middle.weight", "middle.bias", "output.bias"],
  );
});

test("every architecture builds from its config, and toConfig round-trips through createModel", () => {
  for (const preset of PRESETS) {
    const model = createModel(preset.model, { seed: 7 });
    const again = createModel(model.toConfig(), { seed: 7 });
    assert.deepEqual(again.toConfig(), model.toConfig(), preset.name);
    assert.deepEqual(again.parameters.values, model.parameters.values, `${preset.name}: seeded init`);
    assert.deepEqual(
      again.parameters.entries.map((e) => e.name),
      model.parameters.entries.map((e) => e.name),
    );
    const { parameters, receptiveField } = describePreset(preset);
    assert.ok(parameters > 0 && receptiveField >= 1, preset.name);
  }
  assert.equal(describePreset(findPreset("tcn-gated16")).receptiveField, 2047);
  assert.equal(describePreset(findPreset("seedconv-study")).receptiveField, 99);
});

test("bad configs name the field; unknown architectures and presets list the valid ones", () => {
  assert.throws(
    () => parseModelConfig({ architecture: "transformer" }),
    (error: unknown) =>
      error instanceof OptionError &&
      /architecture must be one of linear, mlp, seedconv, tcn, wavenet, lstm, gru/.test(error.message),
  );
  assert.throws(() => createModel({ architecture: "lstm", hidden: 0 }), /hidden: .*>=1, got 0/);
  assert.throws(
    () => createModel({ architecture: "linear", taps: 8, colour: "red" }),
    /unknown option "colour"/,
  );
  assert.throws(() => findPreset("lstm-1000"), /unknown preset "lstm-1000" \(valid: linear-256/);
});

test("transfer copies front-end tensors, and frozen ones stay put while training", () => {
  const source = new SeedconvModel({ filters: 4, kernelSize: 5 }, { seed: 1 });
  const target = new SeedconvModel({ filters: 4, kernelSize: 5, middle: "perFilter" }, { seed: 2 });
  const copied = transferParameters(source, target, { prefixes: ["conv."], freeze: true });
  assert.deepEqual(copied, ["conv.weight", "conv.bias"]);
  assert.deepEqual(target.parameters.value("conv.weight"), source.parameters.value("conv.weight"));
  const frozen = Float32Array.from(target.parameters.value("conv.weight"));
  const middle = Float32Array.from(target.parameters.value("middle.weight"));
  const optimizer = new Adam(target.parameters, { learningRate: 0.1 });
  target.parameters.grads.fill(1);
  optimizer.step();
  assert.deepEqual(target.parameters.value("conv.weight"), frozen);
  assert.notDeepEqual(target.parameters.value("middle.weight"), middle);
  assert.throws(
    () => transferParameters(source, target, { prefixes: ["head."], freeze: false }),
    /no tensor of the source seedconv model starts with "head."/,
  );
  const wider = new SeedconvModel({ filters: 6, kernelSize: 5 }, { seed: 3 });
  assert.throws(
    () => transferParameters(source, wider, { prefixes: ["conv."], freeze: false }),
    /is \[4, 1, 5\] in the source but \[6, 1, 5\] in the target/,
  );
});
