import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { type ModelFile, parseModelFile, serializeModel } from "../../../src/io/model-file.ts";
import { modelFileFromNam, type NamDocument, namFromModelFile } from "../../../src/io/nam/convert.ts";
import { NamError, parseNamFile } from "../../../src/io/nam/file.ts";
import { reverseTaps } from "../../../src/io/nam/layout.ts";
import { joinLstmWeights, NAM_LSTM_BURN_IN_SAMPLES, splitLstmWeights } from "../../../src/io/nam/lstm.ts";
import type { NamA1WavenetConfig } from "../../../src/io/nam/wavenet-a1.ts";
import { sequence } from "../../../src/nn/layers/sequence.ts";
import { findPreset } from "../../../src/nn/models/presets.ts";
import { createModel } from "../../../src/nn/models/registry.ts";
import type { RnnModel } from "../../../src/nn/models/rnn.ts";
import { createStreamProcessor, processWhole } from "../../../src/runtime/index.ts";
import { missingShared, sharedPath } from "../../helpers/shared.ts";

function modelFile(
  config: unknown,
  seed = 1,
  metadata: ModelFile["metadata"] | undefined = undefined,
): ModelFile {
  return {
    model: createModel(config, { seed }),
    sampleRate: 48000,
    latencySamples: 0,
    metadata: metadata ?? { createdAt: "2026-01-02T03:04:05.000Z", deepspVersion: "0.1.0" },
  };
}

/** What a reader sees: the document written as JSON and parsed back as a .nam file. */
function reparse(document: NamDocument, source = "test.nam") {
  return parseNamFile(JSON.stringify(document), source);
}

function bits(values: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(values).buffer);
}

function throwsNam(run: () => unknown, code: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof NamError, `expected a NamError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

/**
 * The weight count NAM core's loaders imply for a config (NAM/linear.cpp, NAM/lstm.cpp, NAM/wavenet), written
 * independently of the converters.
 */
function namWeightCount(document: NamDocument): number {
  const config = document.config as Record<string, unknown>;
  switch (document.architecture) {
    case "Linear":
      return (config["receptive_field"] as number) + (config["bias"] ? 1 : 0);
    case "LSTM": {
      const h = config["hidden_size"] as number;
      let count = 0;
      for (let l = 0; l < (config["num_layers"] as number); l++) {
        const inputs = l === 0 ? (config["input_size"] as number) : h;
        count += 4 * h * (inputs + h) + 4 * h + 2 * h;
      }
      return count + h + 1;
    }
    case "WaveNet": {
      let count = 1; // head_scale
      for (const a of (document.config as NamA1WavenetConfig).layers) {
        const mid = a.gated ? 2 * a.channels : a.channels;
        const perLayer =
          mid * a.channels * a.kernel_size + mid + mid * a.condition_size + a.channels ** 2 + a.channels;
        count += a.input_size * a.channels + a.dilations.length * perLayer + a.channels * a.head_size;
        if (a.head_bias) count += a.head_size;
      }
      return count;
    }
    default:
      throw new Error(`no formula for ${document.architecture}`);
  }
}

test("reversed taps: a NAM Linear's weights are its impulse response, newest sample first", () => {
  assert.deepEqual(Array.from(reverseTaps([1, 2, 3])), [3, 2, 1]);
  const nam = parseNamFile(
    {
      version: "0.5.4",
      architecture: "Linear",
      config: { receptive_field: 3, bias: true },
      weights: [1, 0.5, 0.25, 0.125],
    },
    "fir.nam",
  );
  const { model } = modelFileFromNam(nam);
  const impulse = new Float32Array(5);
  impulse[0] = 1;
  const [y] = processWhole(createStreamProcessor(model), [impulse]);
  // y[t] = bias + weights[t] for a unit impulse at t = 0.
  assert.deepEqual(Array.from(y!), [1.125, 0.625, 0.375, 0.125, 0.125]);
  assert.deepEqual(namFromModelFile(modelFileFromNam(nam)).weights, nam.weights);
});

test("joined LSTM matrix: NAM's row r is [weight_ih[r, :], weight_hh[r, :]]", () => {
  // inputs 1, hidden 1: four gate rows.
  const weightIh = [1, 2, 3, 4];
  const weightHh = [10, 20, 30, 40];
  const joined = joinLstmWeights(weightIh, weightHh, 1, 1);
  assert.deepEqual(Array.from(joined), [1, 10, 2, 20, 3, 30, 4, 40]);
  const split = splitLstmWeights(joined, 1, 1);
  assert.deepEqual([Array.from(split.weightIh), Array.from(split.weightHh)], [weightIh, weightHh]);
  // inputs 2, hidden 1: each row holds two input weights, then the hidden weight.
  const wide = joinLstmWeights([1, 2, 3, 4, 5, 6, 7, 8], [10, 20, 30, 40], 2, 1);
  assert.deepEqual(Array.from(wide.subarray(0, 6)), [1, 2, 10, 3, 4, 20]);
});

test("summed LSTM biases: export writes bias_ih + bias_hh (float32), import puts the sum in bias_ih", () => {
  const file = modelFile({ architecture: "lstm", hidden: 2, inputSkip: false });
  const p = file.model.parameters;
  p.value("rnn.0.bias_ih").set([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
  p.value("rnn.0.bias_hh").set([1, 2, 3, 4, 5, 6, 7, 8]);
  const document = namFromModelFile(file);
  const biasAt = 4 * 2 * (1 + 2);
  const expected = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8].map((b, k) =>
    Math.fround(Math.fround(b) + k + 1),
  );
  assert.deepEqual(document.weights.slice(biasAt, biasAt + 8), expected);
  const imported = modelFileFromNam(reparse(document)).model.parameters;
  assert.deepEqual(Array.from(imported.value("rnn.0.bias_ih")), expected);
  assert.deepEqual(Array.from(imported.value("rnn.0.bias_hh")), new Array(8).fill(0));
});

test("LSTM initial state: each layer's state after 48000 samples of silence, as NAM's trainer stores it", () => {
  const file = modelFile({ architecture: "lstm", hidden: 3, layers: 2, inputSkip: false }, 7);
  const document = namFromModelFile(file);
  // Recomputed as one long run over silence (the export runs in chunks) on the imported model, from zero state.
  const model = modelFileFromNam(reparse(document)).model as RnnModel;
  model.forward(sequence(new Float32Array(NAM_LSTM_BURN_IN_SAMPLES), 1, 1, NAM_LSTM_BURN_IN_SAMPLES));
  let offset = 0;
  for (let l = 0; l < 2; l++) {
    offset += 4 * 3 * ((l === 0 ? 1 : 3) + 3) + 4 * 3;
    const { h, c } = model.rnn[l]!.finalState();
    assert.deepEqual(document.weights.slice(offset, offset + 3), Array.from(h), `layer ${l} hidden state`);
    assert.deepEqual(document.weights.slice(offset + 3, offset + 6), Array.from(c!), `layer ${l} cell state`);
    offset += 6;
  }
});

test("exported weight counts equal what NAM core's loaders expect from the config", () => {
  for (const config of [
    findPreset("linear-256").model,
    { architecture: "linear", taps: 7, bias: false },
    { architecture: "lstm", hidden: 8, inputSkip: false },
    { architecture: "lstm", hidden: 5, layers: 3, inputSkip: false },
    findPreset("wavenet-standard").model,
    findPreset("wavenet-nano").model,
    { architecture: "tcn", width: 3, kernelSize: 2, dilations: [1, 2, 4] },
  ]) {
    const document = namFromModelFile(modelFile(config));
    assert.equal(document.weights.length, namWeightCount(document), JSON.stringify(config));
  }
});

const ROUND_TRIPS: [string, unknown][] = [
  ["linear-256", findPreset("linear-256").model],
  ["linear, no bias", { architecture: "linear", taps: 16, bias: false }],
  ...["wavenet-standard", "wavenet-lite", "wavenet-feather", "wavenet-nano"].map(
    (name) => [name, findPreset(name).model] as [string, unknown],
  ),
  ["lstm 8", { architecture: "lstm", hidden: 8, inputSkip: false }],
  ["lstm 16", { architecture: "lstm", hidden: 16, inputSkip: false }],
  ["lstm 12 x 2", { architecture: "lstm", hidden: 12, layers: 2, inputSkip: false }],
];

for (const [name, config] of ROUND_TRIPS) {
  test(`round trip deepsp -> .nam -> deepsp is bit-exact: ${name}`, () => {
    const file = modelFile(config, 3);
    const document = namFromModelFile(file);
    const back = modelFileFromNam(reparse(document));
    assert.deepEqual(back.model.toConfig(), file.model.toConfig());
    assert.equal(back.sampleRate, 48000);
    const original = file.model.parameters;
    const copy = back.model.parameters;
    for (const { name: tensor } of original.entries) {
      let expected = original.value(tensor);
      // The one documented loss: an LSTM's two biases become their sum (in bias_ih) and zeros (bias_hh).
      if (tensor.endsWith(".bias_ih")) {
        const hh = original.value(tensor.replace("bias_ih", "bias_hh"));
        expected = expected.map((b, k) => b + hh[k]!);
      } else if (tensor.endsWith(".bias_hh")) {
        expected = expected.map(() => 0);
      }
      assert.deepEqual(bits(copy.value(tensor)), bits(expected), tensor);
    }
    // And the file is a fixed point: writing the imported model gives the same file.
    assert.deepEqual(namFromModelFile(back), document);
  });
}

test("tcn exports as the one-layer-array WaveNet that computes the same (input bias folded)", () => {
  for (const config of [
    { architecture: "tcn", width: 4, kernelSize: 3, dilations: [1, 2, 4] },
    { architecture: "tcn", width: 3, kernelSize: 2, dilations: [1, 3], gated: false, activation: "relu" },
    { architecture: "tcn", width: 2, kernelSize: 3, dilations: [2], padding: "causal" },
  ]) {
    const file = modelFile(config, 5);
    const document = namFromModelFile(file);
    assert.equal(document.architecture, "WaveNet");
    assert.equal(document.weights.at(-1), 1, "head_scale 1");
    const wavenet = modelFileFromNam(reparse(document)).model;
    assert.equal(
      wavenet.receptiveField,
      1 + (config.kernelSize - 1) * config.dilations.reduce((a, b) => a + b),
    );
    const length = wavenet.receptiveField - 1 + 256;
    const x = Float32Array.from({ length }, (_, t) => 0.5 * Math.sin(0.07 * t) + 0.3 * Math.sin(1.3 * t + 1));
    const tcn = createModel({ ...config, padding: "valid" });
    tcn.parameters.values.set(file.model.parameters.values);
    const expected = tcn.forward(sequence(x, 1, 1, length)).data;
    const actual = wavenet.forward(sequence(x, 1, 1, length)).data;
    assert.equal(actual.length, 256);
    let worst = 0;
    for (let t = 0; t < 256; t++) worst = Math.max(worst, Math.abs(actual[t]! - expected[t]!));
    assert.ok(worst < 1e-6, `${JSON.stringify(config)}: max |difference| ${worst}`);
  }
});

test("exports .nam cannot express are refused, saying why", () => {
  const refused: [unknown, RegExp][] = [
    [findPreset("lstm-16").model, /input skip/],
    [findPreset("gru-16").model, /no GRU/],
    [findPreset("mlp-study").model, /fully connected/],
    [findPreset("seedconv-study").model, /transposed-convolution/],
    [{ architecture: "linear", taps: 4, channels: 2 }, /2 channels.*mono/],
    [{ architecture: "tcn", channels: 2, width: 2, dilations: [1] }, /2 channels/],
  ];
  for (const [config, message] of refused) {
    throwsNam(() => namFromModelFile(modelFile(config), { source: "out.nam" }), "nam/export", message);
    assert.throws(() => namFromModelFile(modelFile(config), { source: "out.nam" }), /^NamError: out\.nam: /);
  }
  const late = { ...modelFile({ architecture: "linear", taps: 4 }), latencySamples: 3 };
  throwsNam(() => namFromModelFile(late), "nam/export", /latencySamples is 3/);
  const identity = findPreset("wavenet-nano").model as { layers: { activation: string }[] };
  const config = { ...identity, layers: identity.layers.map((a) => ({ ...a, activation: "identity" })) };
  throwsNam(
    () => namFromModelFile(modelFile(config), { source: "x.nam" }),
    "nam/export",
    /x\.nam: .*identity/,
  );
});

test(".nam files deepsp cannot import are refused naming the file and field", () => {
  const nam = (architecture: string, config: unknown, weights: number[] = []) =>
    parseNamFile({ version: "0.5.4", architecture, config, weights }, "amp.nam");
  const lstm = (
    config: Record<string, unknown>,
    weights: number[] = new Array(4 * 2 + 4 + 2 + 1 + 1).fill(0),
  ) => nam("LSTM", { input_size: 1, hidden_size: 1, num_layers: 1, ...config }, weights);
  const cases: [() => unknown, string, RegExp][] = [
    [() => nam("ConvNet", { channels: 2 }), "nam/unsupported", /amp\.nam: architecture "ConvNet"/],
    [() => nam("SlimmableContainer", { submodels: [] }), "nam/unsupported", /SlimmableContainer/],
    [() => lstm({ input_size: 2 }), "nam/unsupported", /config\.input_size: 2.*control inputs/],
    [() => lstm({ in_channels: 2 }), "nam/unsupported", /config\.in_channels: 2.*mono/],
    [() => lstm({ num_layers: 0 }), "nam/unsupported", /num_layers: 0/],
    [() => lstm({ dropout: 0.1 }), "nam/unsupported", /unsupported field\(s\) "dropout"/],
    [() => lstm({ hidden_size: 1.5 }), "nam/config", /config\.hidden_size: expected a whole number/],
    [() => lstm({}, [1, 2, 3]), "nam/weight-count", /amp\.nam: too few weights: layer 0's weight matrix/],
    [() => lstm({}, new Array(17).fill(0)), "nam/weight-count", /config implies 16 weights, the file has 17/],
    [() => nam("Linear", { receptive_field: 0, bias: true }, [1]), "nam/config", /receptive_field/],
    [() => nam("Linear", { receptive_field: 2, bias: "yes" }, [1, 2]), "nam/config", /config\.bias/],
    [
      () => nam("Linear", { receptive_field: 2, bias: false }, [1, 2, 3]),
      "nam/weight-count",
      /implies 2 weights/,
    ],
    [
      () => nam("WaveNet", { layers: [], head: null, head_scale: 0.02, condition_dsp: {} }, [0.02]),
      "nam/unsupported",
      /amp\.nam: NAM WaveNet config: unsupported field\(s\) "condition_dsp"/,
    ],
  ];
  for (const [make, code, message] of cases)
    throwsNam(() => modelFileFromNam(make() as never), code, message);
});

test("metadata: name, loudness, ESRs and date map to NAM's fields, and NAM's own fields survive a round trip", () => {
  const file = modelFile({ architecture: "linear", taps: 2 }, 1, {
    createdAt: "2026-03-04T05:06:07.890Z",
    deepspVersion: "0.1.0",
    name: "filter",
    loudnessDb: -18.5,
    metrics: { validationEsr: 0.01, testEsr: 0.02 },
  });
  const document = namFromModelFile(file);
  assert.deepEqual(document.metadata, {
    date: { year: 2026, month: 3, day: 4, hour: 5, minute: 6, second: 7 },
    name: "filter",
    loudness: -18.5,
    training: { validation_esr: 0.01, test_esr: 0.02 },
  });
  assert.equal(document.version, "0.5.4");
  assert.equal(document.sample_rate, 48000);
  const back = modelFileFromNam(reparse(document));
  assert.equal(back.metadata.createdAt, "2026-03-04T05:06:07.000Z");
  assert.equal(back.metadata.name, "filter");
  assert.equal(back.metadata.loudnessDb, -18.5);
  assert.deepEqual(back.metadata.metrics, { validationEsr: 0.01, testEsr: 0.02 });

  const foreign = parseNamFile(
    {
      version: "0.5.4",
      architecture: "Linear",
      config: { receptive_field: 1, bias: false },
      weights: [0.5],
      metadata: { name: "amp", modeled_by: "someone", gear_type: "amp", training: { validation_esr: null } },
    },
    "amp.nam",
  );
  const imported = modelFileFromNam(foreign);
  assert.equal(imported.sampleRate, 48000, "no sample_rate: NAM core's 48 kHz");
  assert.equal(imported.metadata.metrics, undefined, "a null ESR is no ESR");
  // Saved as a deepsp model file and read back, the NAM metadata rides along in metadata.nam.
  const saved = parseModelFile(serializeModel(imported));
  const written = namFromModelFile(saved).metadata;
  assert.equal(written["modeled_by"], "someone");
  assert.equal(written["gear_type"], "amp");
  assert.deepEqual(written["training"], { validation_esr: null });
});

function readFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function maxError(actual: Float32Array, expected: Float32Array, from = 0): { error: number; peak: number } {
  let error = 0;
  let peak = 0;
  for (let t = from; t < expected.length; t++) {
    error = Math.max(error, Math.abs(actual[t]! - expected[t]!));
    peak = Math.max(peak, Math.abs(expected[t]!));
  }
  return { error, peak };
}

/**
 * NAM core parity through the import and deepsp's streaming runtime. The runtime starts a WaveNet from its
 * history of silence (NAM's prewarm): it matches the primary reference from sample 0, and the no-prewarm one
 * after the receptive field. The LSTM starts from zero state instead of the file's stored state: preceded by
 * NAM_LSTM_BURN_IN_SAMPLES of silence it reaches that state (the trainer made it so) and matches from sample 0
 * (for this file, primary and no-prewarm references are identical).
 */
for (const name of ["lstm", "wavenet", "wavenet_a1_standard"]) {
  const relative = `nam-reference/models/${name}.nam`;
  test(`NAM core parity after import: ${name}.nam`, { skip: missingShared(relative) }, (t) => {
    const nam = parseNamFile(readFileSync(sharedPath(relative), "utf8"), `${name}.nam`);
    const { model } = modelFileFromNam(nam);
    const input = readFloat32(sharedPath("nam-reference/input.f32"));
    const burnIn = model.recurrent ? NAM_LSTM_BURN_IN_SAMPLES : 0;
    const x = new Float32Array(burnIn + input.length);
    x.set(input, burnIn);
    const y = processWhole(createStreamProcessor(model), [x])[0]!.subarray(burnIn);
    const primary = maxError(y, readFloat32(sharedPath(`nam-reference/out/${name}.bs64.f32`)));
    const cold = maxError(
      y,
      readFloat32(sharedPath(`nam-reference/out/${name}.noprewarm.bs64.f32`)),
      model.recurrent ? 0 : model.receptiveField - 1,
    );
    t.diagnostic(
      `${name}: max |error| ${primary.error.toExponential(2)} (no prewarm: ${cold.error.toExponential(2)})`,
    );
    for (const { error, peak } of [primary, cold])
      assert.ok(error <= 1e-4 * Math.max(1, peak), `${error} vs peak ${peak}`);
  });
}

test("lstm.nam: its stored initial state is the state after 48000 samples of silence", {
  skip: missingShared("nam-reference/models/lstm.nam"),
}, () => {
  const nam = parseNamFile(readFileSync(sharedPath("nam-reference/models/lstm.nam"), "utf8"), "lstm.nam");
  const ours = namFromModelFile(modelFileFromNam(nam)).weights;
  const stateAt = 4 * 3 * 4 + 4 * 3;
  for (let k = 0; k < nam.weights.length; k++) {
    const isState = k >= stateAt && k < stateAt + 6;
    if (isState) assert.ok(Math.abs(ours[k]! - nam.weights[k]!) < 1e-4, `state[${k - stateAt}]`);
    else assert.equal(ours[k], nam.weights[k], `weights[${k}]`);
  }
});

test("A2 WaveNets are refused as nam/unsupported (NAM's player plays them)", {
  skip: missingShared("nam-reference/models/wavenet_a2_max.nam"),
}, () => {
  for (const name of ["wavenet_a2_max", "A2", "slimmable_wavenet"]) {
    const nam = parseNamFile(
      readFileSync(sharedPath(`nam-reference/models/${name}.nam`), "utf8"),
      `${name}.nam`,
    );
    throwsNam(() => modelFileFromNam(nam), "nam/unsupported", new RegExp(`^${name}\\.nam: `));
  }
});
