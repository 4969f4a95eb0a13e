import assert from "node:assert/strict";
import { test } from "node:test";
import { DeepspError } from "../../../src/core/errors.ts";
import { ActivationLayer, GatedLayer } from "../../../src/nn/layers/activation.ts";
import { Conv1dLayer, ConvTranspose1dLayer } from "../../../src/nn/layers/conv.ts";
import { DenseLayer } from "../../../src/nn/layers/dense.ts";
import type { Layer } from "../../../src/nn/layers/layer.ts";
import { RecurrentLayer } from "../../../src/nn/layers/recurrent.ts";
import { Parameters } from "../../../src/nn/parameters.ts";
import { checkLayerGradients, randomSequence } from "../../helpers/contracts.ts";
import { gradcheck, Rng, randomArray, weightedSum } from "../../helpers/gradcheck.ts";

const rng = new Rng(11);

test("Conv1dLayer: gradients (valid and causal, dilated, grouped, no bias) and output lengths", () => {
  const valid = new Conv1dLayer("c", { inChannels: 2, outChannels: 3, kernelSize: 3, dilation: 2 });
  assert.equal(valid.receptiveField, 5);
  assert.equal(checkLayerGradients(valid, randomSequence(2, 2, 9, rng), 1).length, 5);
  const causal = new Conv1dLayer("c", {
    inChannels: 4,
    outChannels: 2,
    kernelSize: 2,
    groups: 2,
    bias: false,
    padding: "causal",
  });
  assert.equal(checkLayerGradients(causal, randomSequence(1, 4, 6, rng), 2).length, 6);
  const pointwise = new Conv1dLayer("c", { inChannels: 3, outChannels: 3, kernelSize: 1 });
  assert.equal(checkLayerGradients(pointwise, randomSequence(3, 3, 4, rng), 3).length, 4);
});

test("ConvTranspose1dLayer: gradients, alone and tied to a conv's filters", () => {
  const alone = new ConvTranspose1dLayer("t", { inChannels: 3, outChannels: 2, kernelSize: 3, dilation: 2 });
  assert.equal(checkLayerGradients(alone, randomSequence(2, 3, 4, rng), 4).length, 8);

  // Tied: conv (1 -> 3 filters) then transposed conv back (3 -> 1) with the same weight tensor.
  const conv = new Conv1dLayer("conv", { inChannels: 1, outChannels: 3, kernelSize: 4 });
  const tied = new ConvTranspose1dLayer("out", { inChannels: 3, outChannels: 1, kernelSize: 4 }, conv);
  const parameters = new Parameters([...conv.parameterSpecs(), ...tied.parameterSpecs()], "float64");
  assert.deepEqual(
    parameters.entries.map((entry) => entry.name),
    ["conv.weight", "conv.bias", "out.bias"],
  );
  parameters.initialize(5);
  conv.bind(parameters);
  tied.bind(parameters);
  const x = randomSequence(2, 1, 10, rng);
  const r = randomArray(2 * 10, rng);
  const loss = () => weightedSum(tied.forward(conv.forward(x)).data, r);
  const y = tied.forward(conv.forward(x));
  assert.equal(y.length, 10);
  parameters.zeroGrads();
  conv.backward(tied.backward({ ...y, data: r }, true)!, false);
  gradcheck(loss, [
    { name: "tied", values: parameters.values as Float64Array, grad: Float64Array.from(parameters.grads) },
  ]);
  assert.throws(
    () => new ConvTranspose1dLayer("bad", { inChannels: 2, outChannels: 1, kernelSize: 4 }, conv),
    /mirror of conv/,
  );
});

test("DenseLayer, ActivationLayer, GatedLayer: gradients", () => {
  checkLayerGradients(new DenseLayer("d", { inputs: 5, outputs: 3 }), randomSequence(4, 5, 1, rng), 6);
  checkLayerGradients(
    new DenseLayer("d", { inputs: 2, outputs: 2, bias: false }),
    randomSequence(1, 2, 1, rng),
    7,
  );
  checkLayerGradients(new ActivationLayer("a", "silu"), randomSequence(2, 3, 5, rng), 8);
  const gated = checkLayerGradients(new GatedLayer("g"), randomSequence(2, 4, 5, rng), 9);
  assert.equal(gated.channels, 2);
});

test("RecurrentLayer (LSTM and GRU): gradients, including from a carried state", () => {
  for (const cell of ["lstm", "gru"] as const) {
    const layer = new RecurrentLayer("rnn", cell, { inputs: 2, hidden: 3 });
    checkLayerGradients(layer, randomSequence(2, 2, 5, rng), 10);
    // A second chunk starts from the first chunk's final state (truncated BPTT: no gradient across).
    layer.carryState = true;
    const first = randomSequence(2, 2, 4, rng);
    layer.forward(first);
    const state = Float64Array.from(layer.finalState().h);
    const second = randomSequence(2, 2, 4, rng);
    const fromState = Float64Array.from(layer.forward(second).data);
    layer.resetState();
    const fromZero = layer.forward(second).data;
    assert.notDeepEqual(
      fromState,
      Float64Array.from(fromZero),
      `${cell}: the carried state changes the output`,
    );
    assert.ok(state.some((v) => v !== 0));
  }
});

test("a carried recurrent state is used by backward too (gradients of the second chunk)", () => {
  for (const cell of ["lstm", "gru"] as const) {
    const layer = new RecurrentLayer("rnn", cell, { inputs: 1, hidden: 2 });
    const parameters = new Parameters(layer.parameterSpecs(), "float64");
    parameters.initialize(3);
    layer.bind(parameters);
    layer.carryState = true;
    const first = randomSequence(1, 1, 3, rng);
    const second = randomSequence(1, 1, 3, rng);
    const r = randomArray(2 * 3, rng);
    // The loss of the second chunk, given the state the first chunk leaves (recomputed each time, so the
    // finite difference sees the state move with the weights: but TBPTT cuts that path, so compare only
    // the input gradient, which does not depend on it).
    const run = () => {
      layer.resetState();
      layer.forward(first);
      return layer.forward(second);
    };
    const out = run();
    parameters.zeroGrads();
    const dx = Float64Array.from(layer.backward({ ...out, data: r }, true)!.data);
    gradcheck(
      () => weightedSum(run().data, r),
      [{ name: `${cell} second-chunk input`, values: second.data as Float64Array, grad: dx }],
    );
  }
});

test("bad shapes and configs are rejected at the layer with a clear message", () => {
  const layers: [Layer, RegExp][] = [
    [
      new Conv1dLayer("conv", { inChannels: 2, outChannels: 1, kernelSize: 3 }),
      /conv: expected 2 input channel\(s\), got 1/,
    ],
    [new DenseLayer("dense", { inputs: 3, outputs: 1 }), /dense: expected 3 input channel\(s\), got 1/],
    [
      new RecurrentLayer("rnn", "lstm", { inputs: 2, hidden: 2 }),
      /rnn: expected 2 input channel\(s\), got 1/,
    ],
  ];
  for (const [layer, message] of layers) {
    const parameters = new Parameters(layer.parameterSpecs());
    layer.bind(parameters);
    assert.throws(
      () => layer.forward({ data: new Float32Array(4), batch: 1, channels: 1, length: 4 }),
      (error: unknown) => error instanceof DeepspError && message.test(error.message),
    );
  }
  const short = new Conv1dLayer("short", { inChannels: 1, outChannels: 1, kernelSize: 3, dilation: 4 });
  short.bind(new Parameters(short.parameterSpecs()));
  assert.throws(
    () => short.forward({ data: new Float32Array(5), batch: 1, channels: 1, length: 5 }),
    /shorter than the receptive field 9/,
  );
  assert.throws(
    () => new Conv1dLayer("g", { inChannels: 3, outChannels: 2, kernelSize: 1, groups: 2 }),
    /groups 2 must divide/,
  );
  assert.throws(() => new ActivationLayer("a", "swish" as never), /unknown activation "swish"/);
  const gated = new GatedLayer("gate");
  assert.throws(
    () => gated.forward({ data: new Float32Array(3), batch: 1, channels: 3, length: 1 }),
    /even channel count/,
  );
});

test("parameter names are stable and initialisation is seeded per tensor", () => {
  const conv = new Conv1dLayer("layers.0.conv", { inChannels: 2, outChannels: 4, kernelSize: 3 });
  const lstm = new RecurrentLayer("rnn", "lstm", { inputs: 1, hidden: 8 });
  const specs = [...conv.parameterSpecs(), ...lstm.parameterSpecs()];
  assert.deepEqual(
    specs.map((spec) => `${spec.name}:${spec.shape.join("x")}`),
    [
      "layers.0.conv.weight:4x2x3",
      "layers.0.conv.bias:4",
      "rnn.weight_ih:32x1",
      "rnn.weight_hh:32x8",
      "rnn.bias_ih:32",
      "rnn.bias_hh:32",
    ],
  );
  const a = new Parameters(specs);
  const b = new Parameters(specs);
  a.initialize(1);
  b.initialize(1);
  assert.deepEqual(a.values, b.values);
  b.initialize(2);
  assert.notDeepEqual(a.values, b.values);
  // PyTorch's bound: 1 / sqrt(fan in) = 1 / sqrt(2 * 3) for the conv, 1 / sqrt(8) for the LSTM.
  const bound = (name: string) => Math.max(...a.value(name).map(Math.abs));
  assert.ok(
    bound("layers.0.conv.weight") <= 1 / Math.sqrt(6) && bound("layers.0.conv.weight") > 0.5 / Math.sqrt(6),
  );
  assert.ok(bound("rnn.weight_hh") <= 1 / Math.sqrt(8) && bound("rnn.weight_hh") > 0.9 / Math.sqrt(8));
});
