import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelFile } from "../../../src/io/model-file.ts";
import {
  modelFileFromRtneural,
  RTNEURAL_BATCH_SAMPLES,
  type RtneuralDocument,
  RtneuralError,
  rtneuralFromModelFile,
} from "../../../src/io/rtneural/convert.ts";
import { swapGruGates, transposeMatrix } from "../../../src/io/rtneural/keras.ts";
import { sequence } from "../../../src/nn/layers/sequence.ts";
import { findPreset } from "../../../src/nn/models/presets.ts";
import { createModel } from "../../../src/nn/models/registry.ts";

function modelFile(config: unknown, seed = 1): ModelFile {
  return {
    model: createModel(config, { seed }),
    sampleRate: 44100,
    latencySamples: 0,
    metadata: { createdAt: "2026-01-02T03:04:05.000Z", deepspVersion: "0.1.0", name: "drive" },
  };
}

function throwsRtneural(run: () => unknown, code: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof RtneuralError, `expected an RtneuralError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

function bits(values: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(values).buffer);
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const INPUT = [0.5, -0.3, 0.8, 0.1, -0.6];

function run(file: ModelFile, input: readonly number[]): number[] {
  file.model.resetState();
  return Array.from(file.model.forward(sequence(Float32Array.from(input), 1, 1, input.length)).data);
}

function assertClose(actual: number[], expected: number[], tolerance: number): void {
  for (const [t, value] of actual.entries()) {
    assert.ok(Math.abs(value - expected[t]!) <= tolerance, `sample ${t}: ${value} vs ${expected[t]}`);
  }
}

/** The largest difference between two outputs (for showing a wrong gate order would be caught). */
function distance(a: number[], b: number[]): number {
  return Math.max(...a.map((value, t) => Math.abs(value - b[t]!)));
}

// A 2-unit LSTM in Keras layout: kernel [1][8], recurrent_kernel [2][8], bias [8]; gate columns i, f, c, o.
const LSTM_KERNEL = [[0.9, -0.4, 0.3, 0.7, 1.2, -0.8, 0.5, -0.2]];
const LSTM_RECURRENT = [
  [0.2, -0.5, 0.6, 0.1, -0.3, 0.4, 0.8, -0.7],
  [-0.6, 0.3, -0.2, 0.9, 0.5, -0.1, -0.4, 0.2],
];
const LSTM_BIAS = [0.1, -0.2, 1.0, 0.5, 0.0, 0.3, -0.5, 0.4];
const DENSE = [[0.7], [-1.1]];
const DENSE_BIAS = [0.05];

/**
 * Keras's LSTM, computed here in float64 straight from its equations: z = x K + h U + b split into i, f, c, o
 * columns; c' = s(f) c + s(i) tanh(c~); h' = s(o) tanh(c'); y = h' D + d (+ x with in_skip). `order` permutes
 * the gate blocks, to show the test would catch a wrong order.
 */
function kerasLstm(input: readonly number[], skip: boolean, order = [0, 1, 2, 3]): number[] {
  let h = [0, 0];
  let c = [0, 0];
  return input.map((x) => {
    const z = [0, 1, 2, 3, 4, 5, 6, 7].map(
      (j) =>
        x * LSTM_KERNEL[0]![j]! +
        h[0]! * LSTM_RECURRENT[0]![j]! +
        h[1]! * LSTM_RECURRENT[1]![j]! +
        LSTM_BIAS[j]!,
    );
    const gate = (g: number, m: number) => z[2 * order[g]! + m]!;
    c = [0, 1].map((m) => sigmoid(gate(1, m)) * c[m]! + sigmoid(gate(0, m)) * Math.tanh(gate(2, m)));
    h = [0, 1].map((m) => sigmoid(gate(3, m)) * Math.tanh(c[m]!));
    return h[0]! * DENSE[0]![0]! + h[1]! * DENSE[1]![0]! + DENSE_BIAS[0]! + (skip ? x : 0);
  });
}

// A 2-unit GRU in Keras layout (reset_after = true): kernel [1][6], recurrent_kernel [2][6], bias [2][6];
// gate columns z, r, h.
const GRU_KERNEL = [[0.8, -0.5, 0.4, 1.1, -0.9, 0.6]];
const GRU_RECURRENT = [
  [0.3, -0.7, 0.5, 0.2, 0.9, -0.4],
  [-0.2, 0.6, -0.8, 0.4, -0.3, 0.7],
];
const GRU_BIAS = [
  [0.2, -0.1, 0.4, -0.3, 0.1, 0.5],
  [-0.4, 0.3, 0.1, 0.2, -0.6, 0.25],
];

/**
 * Keras's GRU (reset_after = true), in float64 from its equations: a = x K + b[0], u = h U + b[1], split into
 * z, r, h columns; z = s(a_z + u_z), r = s(a_r + u_r), h~ = tanh(a_h + r u_h), h' = z h + (1 - z) h~.
 */
function kerasGru(input: readonly number[], skip: boolean, order = [0, 1, 2]): number[] {
  let h = [0, 0];
  return input.map((x) => {
    const a = [0, 1, 2, 3, 4, 5].map((j) => x * GRU_KERNEL[0]![j]! + GRU_BIAS[0]![j]!);
    const u = [0, 1, 2, 3, 4, 5].map(
      (j) => h[0]! * GRU_RECURRENT[0]![j]! + h[1]! * GRU_RECURRENT[1]![j]! + GRU_BIAS[1]![j]!,
    );
    const at = (values: number[], g: number, m: number) => values[2 * order[g]! + m]!;
    h = [0, 1].map((m) => {
      const z = sigmoid(at(a, 0, m) + at(u, 0, m));
      const r = sigmoid(at(a, 1, m) + at(u, 1, m));
      const candidate = Math.tanh(at(a, 2, m) + r * at(u, 2, m));
      return z * h[m]! + (1 - z) * candidate;
    });
    return h[0]! * DENSE[0]![0]! + h[1]! * DENSE[1]![0]! + DENSE_BIAS[0]! + (skip ? x : 0);
  });
}

function handFile(type: "lstm" | "gru", skip: boolean): Record<string, unknown> {
  const weights =
    type === "lstm" ? [LSTM_KERNEL, LSTM_RECURRENT, LSTM_BIAS] : [GRU_KERNEL, GRU_RECURRENT, GRU_BIAS];
  return {
    in_shape: [null, null, 1],
    in_skip: skip ? 1 : 0,
    layers: [
      { type, activation: "", shape: [null, null, 2], weights },
      { type: "dense", activation: "", shape: [null, null, 1], weights: [DENSE, DENSE_BIAS] },
    ],
  };
}

test("LSTM gate order and transposition: a hand-computed Keras LSTM (2 units) plays the same in deepsp", () => {
  for (const skip of [false, true]) {
    const expected = kerasLstm(INPUT, skip);
    const actual = run(modelFileFromRtneural(handFile("lstm", skip), { source: "hand.json" }), INPUT);
    assertClose(actual, expected, 1e-6);
    // The check has teeth: reading the columns in another order gives other outputs.
    assert.ok(distance(expected, kerasLstm(INPUT, skip, [1, 0, 2, 3])) > 1e-3);
    assert.ok(distance(expected, kerasLstm(INPUT, skip, [0, 1, 3, 2])) > 1e-3);
  }
});

test("GRU gate order (Keras z, r, h vs PyTorch r, z, n): a hand-computed Keras GRU (2 units) plays the same", () => {
  for (const skip of [false, true]) {
    const expected = kerasGru(INPUT, skip);
    const actual = run(modelFileFromRtneural(handFile("gru", skip), { source: "hand.json" }), INPUT);
    assertClose(actual, expected, 1e-6);
    assert.ok(distance(expected, kerasGru(INPUT, skip, [1, 0, 2])) > 1e-3);
  }
  // The helper itself: blocks 0 and 1 of `hidden` rows swap, block 2 stays; twice is the identity.
  const rows = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]; // [3 * 2][2]
  assert.deepEqual(Array.from(swapGruGates(rows, 2, 2)), [5, 6, 7, 8, 1, 2, 3, 4, 9, 10, 11, 12]);
  assert.deepEqual(Array.from(swapGruGates(swapGruGates(rows, 2, 2), 2, 2)), rows);
  assert.deepEqual(Array.from(transposeMatrix([1, 2, 3, 4, 5, 6], 2, 3)), [1, 4, 2, 5, 3, 6]);
});

for (const [name, config] of [
  ["lstm-8", findPreset("lstm-8").model],
  ["lstm-16", findPreset("lstm-16").model],
  ["lstm 12 without skip", { architecture: "lstm", hidden: 12, inputSkip: false }],
  ["gru-16", findPreset("gru-16").model],
] as const) {
  test(`round trip deepsp -> RTNeural -> deepsp is bit-exact: ${name}`, () => {
    const file = modelFile(config, 9);
    const document = rtneuralFromModelFile(file);
    const back = modelFileFromRtneural(JSON.parse(JSON.stringify(document)), { source: `${name}.json` });
    assert.deepEqual(back.model.toConfig(), file.model.toConfig());
    const original = file.model.parameters;
    for (const { name: tensor } of original.entries) {
      let expected = original.value(tensor);
      // An LSTM's two biases become their sum (in bias_ih) and zeros (bias_hh); a GRU keeps both.
      if (config.architecture === "lstm" && tensor.endsWith(".bias_ih")) {
        const hh = original.value(tensor.replace("bias_ih", "bias_hh"));
        expected = expected.map((b, k) => b + hh[k]!);
      } else if (config.architecture === "lstm" && tensor.endsWith(".bias_hh")) {
        expected = expected.map(() => 0);
      }
      assert.deepEqual(bits(back.model.parameters.value(tensor)), bits(expected), tensor);
    }
    assert.equal(back.sampleRate, 44100);
    assert.equal(back.metadata.name, "drive");
    assert.deepEqual(rtneuralFromModelFile(back), document, "writing the imported model gives the same file");
  });
}

test("the file AIDA-X reads: in_shape, in_skip, Keras shapes, test vectors of the model's output", () => {
  const file = modelFile(findPreset("gru-16").model, 2);
  file.metadata.metrics = { validationEsr: 0.03, testEsr: 0.04 };
  const document = rtneuralFromModelFile(file);
  assert.deepEqual(document.in_shape, [null, null, 1]);
  assert.equal(document.in_skip, 1);
  assert.deepEqual(
    document.layers.map((layer) => [layer.type, layer.activation, layer.shape]),
    [
      ["gru", "tanh", [null, null, 16]],
      ["dense", "", [null, null, 1]],
    ],
  );
  const [kernel, recurrent, bias] = document.layers[0]!.weights as number[][][];
  assert.deepEqual(
    [kernel!.length, kernel![0]!.length, recurrent!.length, recurrent![0]!.length],
    [1, 48, 16, 48],
  );
  assert.deepEqual([bias!.length, bias![0]!.length], [2, 48]);
  assert.deepEqual(document.metadata, { samplerate: "44100", name: "drive", esr: 0.04 });
  assert.equal(document.input_batch.length, RTNEURAL_BATCH_SAMPLES);
  assert.deepEqual(document.output_batch, run(file, document.input_batch).map(Math.fround));
});

test("test vectors are checked on import: a changed output_batch is refused, verify: false skips the check", () => {
  const document: RtneuralDocument = rtneuralFromModelFile(modelFile(findPreset("lstm-8").model));
  const tampered = {
    ...document,
    output_batch: document.output_batch.map((y, t) => (t === 100 ? y + 0.01 : y)),
  };
  throwsRtneural(
    () => modelFileFromRtneural(tampered, { source: "amp.json" }),
    "rtneural/snapshot",
    /amp\.json: output_batch: .*differs.*at sample 100/,
  );
  modelFileFromRtneural(tampered, { verify: false });
  const { output_batch: _, ...half } = document;
  throwsRtneural(
    () => modelFileFromRtneural(half, { source: "amp.json" }),
    "rtneural/field",
    /output_batch: missing/,
  );
});

test("bad or inexpressible RTNeural files are refused naming the field", () => {
  const base = handFile("lstm", false);
  const layers = base["layers"] as Record<string, unknown>[];
  const withLayer = (i: number, change: Record<string, unknown>) => ({
    ...base,
    layers: layers.map((layer, j) => (j === i ? { ...layer, ...change } : layer)),
  });
  const cases: [unknown, string, RegExp][] = [
    ["{", "rtneural/json", /amp\.json: not JSON/],
    [[], "rtneural/field", /amp\.json: expected a JSON object/],
    [{ ...base, in_shape: [null, null, 2] }, "rtneural/unsupported", /in_shape.*control parameters/],
    [{ ...base, in_skip: 2 }, "rtneural/field", /in_skip: expected 0 or 1, got 2/],
    [{ ...base, in_gain: 6 }, "rtneural/unsupported", /in_gain: 6 dB: deepsp models have no gains/],
    [{ ...base, out_gain: -3 }, "rtneural/unsupported", /out_gain: -3 dB/],
    [{ ...base, layers: "x" }, "rtneural/field", /layers: expected an array/],
    [{ ...base, layers: [...layers, layers[1]] }, "rtneural/unsupported", /layers: expected 2.*got 3/],
    [withLayer(0, { type: "conv1d" }), "rtneural/unsupported", /layers\[0\]\.type: expected "lstm" or "gru"/],
    [withLayer(0, { activation: "relu" }), "rtneural/unsupported", /layers\[0\]\.activation: "relu"/],
    [withLayer(0, { shape: [null, null, 0] }), "rtneural/field", /layers\[0\]\.shape/],
    [
      withLayer(0, { shape: [null, null, 3] }),
      "rtneural/field",
      /layers\[0\]\.weights\[0\] \(kernel\)\[0\]: expected an array of 12/,
    ],
    [
      withLayer(0, { weights: [LSTM_KERNEL, LSTM_RECURRENT.slice(1), LSTM_BIAS] }),
      "rtneural/field",
      /layers\[0\]\.weights\[1\] \(recurrent kernel\): expected 2 rows of 8 numbers.*\(1 rows\)/,
    ],
    [
      withLayer(0, { weights: [LSTM_KERNEL, LSTM_RECURRENT, [...LSTM_BIAS.slice(1), "x"]] }),
      "rtneural/field",
      /weights\[2\] \(bias\)\[7\]: expected a finite number, got "x"/,
    ],
    [
      withLayer(0, { weights: [LSTM_KERNEL] }),
      "rtneural/field",
      /layers\[0\]\.weights: expected a list of at least 3/,
    ],
    [withLayer(1, { activation: "tanh" }), "rtneural/unsupported", /layers\[1\]\.activation: "tanh"/],
    [withLayer(1, { type: "gru" }), "rtneural/unsupported", /layers\[1\]\.type: expected "dense"/],
    [
      withLayer(1, { shape: [null, null, 2] }),
      "rtneural/unsupported",
      /layers\[1\]\.shape: the output size is 2/,
    ],
    [{ ...base, metadata: { samplerate: "fast" } }, "rtneural/field", /metadata\.samplerate/],
  ];
  for (const [input, code, message] of cases) {
    throwsRtneural(() => modelFileFromRtneural(input, { source: "amp.json" }), code, message);
  }
  const gru = handFile("gru", false);
  const gruLayers = gru["layers"] as Record<string, unknown>[];
  const resetBefore = {
    ...gru,
    layers: [{ ...gruLayers[0], weights: [GRU_KERNEL, GRU_RECURRENT, GRU_BIAS[0]] }, gruLayers[1]],
  };
  throwsRtneural(() => modelFileFromRtneural(resetBefore), "rtneural/unsupported", /reset_after = true/);
  // A dense layer without bias (Keras use_bias = false) plays with a zero bias.
  const noBias = withLayer(1, { weights: [DENSE] });
  const expected = kerasLstm(INPUT, false).map((y) => y - DENSE_BIAS[0]!);
  assertClose(run(modelFileFromRtneural(noBias), INPUT), expected, 1e-6);
});

test("exports RTNeural/AIDA-X cannot express are refused, saying why", () => {
  const refused: [unknown, RegExp][] = [
    [findPreset("lstm-8x2").model, /2 recurrent layers; AIDA-X plays one/],
    [{ architecture: "gru", hidden: 4, channels: 2 }, /2 channels; AIDA-X plays mono/],
    [findPreset("linear-64").model, /a linear model/],
    [findPreset("wavenet-nano").model, /a wavenet model/],
  ];
  for (const [config, message] of refused) {
    throwsRtneural(
      () => rtneuralFromModelFile(modelFile(config), { source: "out.json" }),
      "rtneural/export",
      message,
    );
  }
  const late = { ...modelFile({ architecture: "lstm", hidden: 2 }), latencySamples: 1 };
  throwsRtneural(() => rtneuralFromModelFile(late), "rtneural/export", /latencySamples is 1/);
});
