import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  DEEPSP_VERSION,
  decodeFloat32,
  encodeFloat32,
  ModelFileError,
  type ModelFileInput,
  parseModelFile,
  serializeModel,
} from "../../src/io/model-file.ts";
import { sequence } from "../../src/nn/layers/sequence.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { readModelFile, writeModelFile } from "../../src/node/model-files.ts";
import { Rng } from "../helpers/gradcheck.ts";

/** Small configs, one or more per architecture (stereo where the architecture has channels). */
const CONFIGS: Record<string, unknown>[] = [
  { architecture: "linear", taps: 5, channels: 2 },
  { architecture: "mlp", window: 6, hidden: [4, 3], activation: "silu" },
  { architecture: "seedconv", filters: 3, kernelSize: 4, middle: "perFilter" },
  { architecture: "tcn", width: 3, kernelSize: 2, dilations: [1, 2, 4] },
  {
    architecture: "tcn",
    channels: 2,
    width: 2,
    kernelSize: 3,
    dilations: [1, 3],
    gated: false,
    padding: "causal",
  },
  { architecture: "lstm", hidden: 4 },
  { architecture: "gru", hidden: 3, layers: 2, channels: 2, inputSkip: false },
  {
    architecture: "wavenet",
    layers: [
      { inputSize: 1, channels: 3, headSize: 2, kernelSize: 2, dilations: [1, 2], headBias: false },
      { inputSize: 3, channels: 2, headSize: 1, kernelSize: 2, dilations: [1, 4], headBias: true },
    ],
  },
];

const METADATA = {
  name: "test model",
  createdAt: "2026-01-02T03:04:05.678Z",
  training: {
    data: { files: ["in.wav", "out.wav"], effect: "ts9 drive=6", material: "standard", extra: 1 },
    split: { kind: "fractions", train: 0.8, validation: 0.1, test: 0.1 },
    loss: { type: "mse" },
    epochs: 10,
    bestEpoch: 7,
    trainingSeconds: 12.5,
    seed: 3,
    learningRate: 0.004,
    customTrainingNote: "kept",
  },
  metrics: { validationEsr: 0.012, testEsr: 0.014, mrstft: 0.5 },
  latencyRemovedSamples: 3,
  loudnessDb: -18.5,
  unknownKey: { nested: [1, "two", null, true] },
};

/** A model for `config`, or undefined when the architecture is still a placeholder. */
function tryCreate(config: Record<string, unknown>, seed: number): Model | undefined {
  try {
    return createModel(config, { seed });
  } catch (error) {
    if (error instanceof Error && /not available yet/.test(error.message)) return undefined;
    throw error;
  }
}

function bits(values: ArrayLike<number>): Uint32Array {
  const floats = Float32Array.from(values);
  return new Uint32Array(floats.buffer);
}

function run(model: Model, input: Float32Array, channels: number, length: number): Float32Array {
  model.setCarryState(false);
  model.resetState();
  return Float32Array.from(model.forward(sequence(Float32Array.from(input), 1, channels, length)).data);
}

for (const [index, config] of CONFIGS.entries()) {
  test(`round trip: ${config["architecture"]} #${index}`, (t) => {
    const model = tryCreate(config, 10 + index);
    if (!model) {
      t.skip(`${config["architecture"]} is not available yet`);
      return;
    }
    // Values that only a bit-exact encoding keeps.
    model.parameters.values[0] = -0;
    model.parameters.values[1] = 1.401298464324817e-45; // the smallest float32 denormal
    const text = serializeModel({ model, sampleRate: 44100, metadata: METADATA });
    const file = parseModelFile(text, { source: "m.json" });

    assert.deepEqual(bits(file.model.parameters.values), bits(model.parameters.values));
    assert.deepEqual(file.model.toConfig(), model.toConfig());
    assert.equal(file.model.architecture, model.architecture);
    assert.equal(file.sampleRate, 44100);
    assert.equal(file.latencySamples, 0);
    assert.deepEqual(file.metadata, { ...METADATA, deepspVersion: DEEPSP_VERSION });

    const document = JSON.parse(text);
    assert.equal(document.format, "deepsp-model");
    assert.equal(document.version, 1);
    assert.equal(document.receptiveField, model.receptiveField);
    assert.equal(document.channels, model.channels);
    assert.deepEqual(
      document.tensors,
      model.parameters.entries.map(({ name, shape, offset }) => ({ name, shape, offset })),
    );
    assert.deepEqual(document.snapshot.inputShape, [model.channels, model.receptiveField - 1 + 128]);

    const length = model.receptiveField + 40;
    const rng = new Rng(index);
    const input = Float32Array.from({ length: model.channels * length }, () => rng.uniform(-0.5, 0.5));
    assert.deepEqual(
      bits(run(file.model, input, model.channels, length)),
      bits(run(model, input, model.channels, length)),
    );
    assert.equal(serializeModel(file), text, "serialize(parse(serialize(m))) is byte-identical");
  });
}

test("serializeModel fills createdAt and deepspVersion, writes tidy JSON, leaves the model alone", () => {
  const model = createModel({ architecture: "lstm", hidden: 2 }, { seed: 1 });
  model.setCarryState(true);
  const before = Float32Array.from(model.parameters.values);
  const text = serializeModel({ model, sampleRate: 48000 });
  const { metadata } = parseModelFile(text);
  assert.equal(metadata.deepspVersion, DEEPSP_VERSION);
  assert.ok(Math.abs(Date.parse(metadata.createdAt) - Date.now()) < 60_000);
  assert.deepEqual(model.parameters.values, before);
  assert.ok(text.endsWith("}\n"));
  assert.match(text, /\n {4}\{ "name": "rnn\.0\.weight_ih", "shape": \[8, 1\], "offset": 0 \},\n/);
  assert.match(text, /\n {2}"weightsEncoding": "float32-le-base64",\n/);
});

test("serializeModel refuses what it could not read back", () => {
  const model = createModel({ architecture: "linear", taps: 3 }, { seed: 1 });
  const expectThrow = (input: ModelFileInput, code: string, pattern: RegExp) =>
    assert.throws(
      () => serializeModel(input, { source: "out.json" }),
      (error: unknown) =>
        error instanceof ModelFileError && error.code === code && pattern.test(error.message),
    );
  expectThrow({ model, sampleRate: 0 }, "model-file/field", /^out\.json: sampleRate/);
  expectThrow(
    { model, sampleRate: 48000, metadata: { training: { epochs: 1.5 } } },
    "model-file/field",
    /^out\.json: metadata\.training\.epochs/,
  );
  expectThrow(
    { model, sampleRate: 48000, metadata: { createdAt: "yesterday" } },
    "model-file/field",
    /^out\.json: metadata\.createdAt/,
  );
  const unfaithful = Object.create(model) as Model;
  unfaithful.toConfig = () => ({ ...model.toConfig(), bias: false });
  expectThrow(
    { model: unfaithful, sampleRate: 48000 },
    "model-file/tensor",
    /^out\.json: model\.toConfig\(\) rebuilds another model: tensors\[1\] \(fir\.bias\): the linear model has no tensor/,
  );
  // Finite weights whose output overflows float32: 1e30 * 1e30.
  const huge = createModel({ architecture: "mlp", window: 2, hidden: [2], activation: "identity" });
  huge.parameters.values.fill(1e30);
  expectThrow(
    { model: huge, sampleRate: 48000 },
    "model-file/snapshot",
    /^out\.json: snapshot: .* is not finite/,
  );
  model.parameters.values[2] = Number.NaN;
  expectThrow(
    { model, sampleRate: 48000 },
    "model-file/weights",
    /^out\.json: weights\[2\] \(fir\.weight\[2\]\)/,
  );
});

test("float64 models are written as float32; latencySamples round-trips", () => {
  const model = createModel(
    { architecture: "mlp", window: 3, hidden: [2] },
    { seed: 6, floatType: "float64" },
  );
  const file = parseModelFile(serializeModel({ model, sampleRate: 96000, latencySamples: 5 }));
  assert.equal(file.model.parameters.floatType, "float32");
  assert.deepEqual(file.model.parameters.values, Float32Array.from(model.parameters.values));
  assert.equal(file.latencySamples, 5);
  assert.equal(file.sampleRate, 96000);
});

test("DEEPSP_VERSION is package.json's version", async () => {
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
  assert.equal(DEEPSP_VERSION, pkg.version);
});

test("float32 codec: bit-exact floats, little-endian", () => {
  const raw = new Uint32Array([0x80000000, 1, 0x7f7fffff, 0xff7fffff, 0x3f800000, 0x12345678, 0x00800000]);
  const floats = new Float32Array(raw.buffer);
  assert.deepEqual(new Uint32Array(decodeFloat32(encodeFloat32(floats)).buffer), raw);
  // Little-endian on every platform: 1.0f is 00 00 80 3f.
  assert.equal(encodeFloat32([1]), Buffer.from([0, 0, 0x80, 0x3f]).toString("base64"));
  assert.throws(() => decodeFloat32("Zm9v!A=="), /not valid base64/);
});

// ---------------------------------------------------------------------------------------------------------
// Validation: each broken file is refused with the right code, a message naming the source and the field.

const BASE_MODEL = createModel(
  { architecture: "tcn", width: 2, kernelSize: 2, dilations: [1, 2] },
  { seed: 2 },
);
const BASE_TEXT = serializeModel({ model: BASE_MODEL, sampleRate: 48000, metadata: METADATA });
// biome-ignore lint/suspicious/noExplicitAny: test documents are edited freely
type Doc = any;

function broken(edit: (doc: Doc) => void): string {
  const doc = JSON.parse(BASE_TEXT);
  edit(doc);
  return JSON.stringify(doc);
}

function expectError(text: string, code: string, pattern: RegExp, options: { verify?: boolean } = {}): void {
  assert.throws(
    () => parseModelFile(text, { source: "bad.json", ...options }),
    (error: unknown) => {
      assert.ok(error instanceof ModelFileError, `expected a ModelFileError, got ${error}`);
      assert.equal(error.code, code, error.message);
      assert.ok(error.message.startsWith("bad.json: "), error.message);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

/** Replaces weights[index] by `value` in the document's base64. */
function setWeight(doc: Doc, index: number, value: number): void {
  const weights = decodeFloat32(doc.weights);
  weights[index] = value;
  doc.weights = encodeFloat32(weights);
}

test("refused: not JSON, not a model file, wrong format, newer or bad version, unknown fields", () => {
  expectError("{ nope", "model-file/not-json", /not valid JSON/);
  expectError("", "model-file/not-json", /not valid JSON/);
  assert.throws(
    () => parseModelFile(new Uint8Array([0x7b, 0xff, 0x7d]), { source: "bad.json" }),
    (error: unknown) => error instanceof ModelFileError && error.code === "model-file/not-json",
  );
  expectError("[1, 2]", "model-file/format", /expected a JSON object, got \[1,2\]/);
  expectError(
    broken((d) => (d.format = "nam")),
    "model-file/format",
    /format: expected "deepsp-model", got "nam"/,
  );
  expectError(
    broken((d) => delete d.format),
    "model-file/format",
    /format: expected "deepsp-model", got nothing/,
  );
  expectError(
    JSON.stringify({ version: "0.5.4", architecture: "WaveNet", config: {}, weights: [] }),
    "model-file/format",
    /looks like a NAM \.nam file/,
  );
  expectError(
    broken((d) => (d.version = 2)),
    "model-file/version",
    /format version 2.*reads version 1/,
  );
  expectError(
    broken((d) => (d.version = 1.5)),
    "model-file/version",
    /version: expected a whole number/,
  );
  expectError(
    broken((d) => delete d.version),
    "model-file/missing-field",
    /bad\.json: version: missing/,
  );
  expectError(
    broken((d) => (d.extra = 1)),
    "model-file/format",
    /unknown field "extra"/,
  );
});

test("refused: missing or mistyped fields, named", () => {
  for (const field of ["config", "weights", "tensors", "sampleRate", "metadata", "weightsEncoding"]) {
    expectError(
      broken((d) => delete d[field]),
      "model-file/missing-field",
      new RegExp(`^bad\\.json: ${field}: missing`),
    );
  }
  expectError(
    broken((d) => delete d.metadata.createdAt),
    "model-file/missing-field",
    /metadata\.createdAt: missing/,
  );
  expectError(
    broken((d) => (d.sampleRate = "48k")),
    "model-file/field",
    /sampleRate: expected number, got "48k"/,
  );
  expectError(
    broken((d) => (d.sampleRate = -1)),
    "model-file/field",
    /sampleRate: .*got -1/,
  );
  expectError(
    broken((d) => (d.tensors[1].shape = "2")),
    "model-file/field",
    /tensors\[1\]\.shape: /,
  );
  expectError(
    broken((d) => (d.metadata.training.epochs = "ten")),
    "model-file/field",
    /metadata\.training\.epochs: expected number, got "ten"/,
  );
  expectError(
    broken((d) => (d.snapshot.extra = 1)),
    "model-file/field",
    /snapshot: unknown field "extra"/,
  );
});

test("refused: bad configs, unknown architecture, inconsistent header", () => {
  expectError(
    broken((d) => {
      d.architecture = "transformer";
      d.config.architecture = "transformer";
    }),
    "model-file/config",
    /config: architecture must be one of .*got "transformer"/,
  );
  expectError(
    broken((d) => (d.architecture = "lstm")),
    "model-file/config",
    /architecture: "lstm" but config/,
  );
  expectError(
    broken((d) => (d.config.width = 0)),
    "model-file/config",
    /config \(tcn\): width/,
  );
  expectError(
    broken((d) => (d.config.colour = "red")),
    "model-file/config",
    /unknown option "colour"/,
  );
  expectError(
    broken((d) => (d.channels = 2)),
    "model-file/config",
    /channels: 2 but the config builds a model with 1/,
  );
  expectError(
    broken((d) => (d.receptiveField = 9)),
    "model-file/config",
    /receptiveField: 9 but .* with 4/,
  );
});

test("refused: tensor shape, offset, name mismatches; extra, missing and duplicate tensors", () => {
  // tensors: input.weight, input.bias, layers.0.conv.weight [4, 2, 2], ...
  assert.equal(JSON.parse(BASE_TEXT).tensors[2].name, "layers.0.conv.weight");
  expectError(
    broken((d) => (d.tensors[2].shape = [4, 1, 2])),
    "model-file/tensor",
    /^bad\.json: tensors\[2\] \(layers\.0\.conv\.weight\): shape \[4, 1, 2\] but the model expects \[4, 2, 2\]$/,
  );
  expectError(
    broken((d) => (d.tensors[3].offset += 1)),
    "model-file/tensor",
    /tensors\[3\] \(layers\.0\.conv\.bias\): offset 21 but the model expects 20/,
  );
  expectError(
    broken((d) => (d.tensors[3].name = "layers.0.conv.bias_")),
    "model-file/tensor",
    /tensors\[3\] \(layers\.0\.conv\.bias_\): the tcn model has no tensor of this name/,
  );
  expectError(
    broken((d) => d.tensors.push({ name: "extra.weight", shape: [1], offset: 59 })),
    "model-file/tensor",
    /tensors\[12\] \(extra\.weight\): the tcn model has no tensor/,
  );
  expectError(
    broken((d) => d.tensors.splice(11, 1)),
    "model-file/tensor",
    /tensors: "head\.bias" \(shape \[1\]\) is missing/,
  );
  expectError(
    broken((d) => d.tensors.push({ ...d.tensors[0] })),
    "model-file/tensor",
    /tensors\[12\] \(input\.weight\): the same name as tensors\[0\]/,
  );
  // The same tensors listed in another order still describe the same layout: accepted.
  const reordered = parseModelFile(broken((d) => d.tensors.reverse()));
  assert.deepEqual(reordered.model.parameters.values, BASE_MODEL.parameters.values);
});

test("refused: weight count, encoding, base64 and non-finite weights", () => {
  const count = BASE_MODEL.parameters.count;
  const resized = (delta: number) =>
    broken((d) => {
      const weights = decodeFloat32(d.weights);
      const next = new Float32Array(count + delta);
      next.set(weights.subarray(0, Math.min(count, count + delta)));
      d.weights = encodeFloat32(next);
    });
  expectError(
    resized(-1),
    "model-file/weights",
    new RegExp(`weights: ${count - 1} values but the model expects ${count}`),
  );
  expectError(
    resized(1),
    "model-file/weights",
    new RegExp(`weights: ${count + 1} values but the model expects ${count}`),
  );
  expectError(
    broken((d) => (d.weights = "AAAA")),
    "model-file/weights",
    /weights: 3 bytes is not a whole number/,
  );
  expectError(
    broken((d) => (d.weights = `@${d.weights.slice(1)}`)),
    "model-file/weights",
    /weights: not valid base64/,
  );
  expectError(
    broken((d) => (d.weightsEncoding = "float16")),
    "model-file/weights",
    /weightsEncoding: expected/,
  );
  expectError(
    broken((d) => setWeight(d, 3, Number.NaN)),
    "model-file/weights",
    /weights\[3\] \(input\.bias\[1\]\): NaN is not a finite number/,
  );
  expectError(
    broken((d) => setWeight(d, count - 1, Number.POSITIVE_INFINITY)),
    "model-file/weights",
    /head\.bias\[0\]\): Infinity/,
  );
});

test("snapshot: a changed weight or output fails verification; verify: false loads anyway; absent is fine", () => {
  const flipped = broken((d) => {
    const weights = decodeFloat32(d.weights);
    setWeight(d, 4, weights[4]! + 0.25);
  });
  expectError(
    flipped,
    "model-file/snapshot",
    /snapshot: snapshot mismatch: the weights or the runtime differ/,
  );
  const loaded = parseModelFile(flipped, { verify: false });
  assert.equal(loaded.model.parameters.values[4], Math.fround(BASE_MODEL.parameters.values[4]! + 0.25));

  const output = broken((d) => {
    const values = decodeFloat32(d.snapshot.output);
    values[7] = values[7]! + 1e-3;
    d.snapshot.output = encodeFloat32(values);
  });
  expectError(output, "model-file/snapshot", /mismatch.*channel 0, sample 7/);
  // Differences within 1e-5 * max(1, peak) pass.
  const tiny = broken((d) => {
    const values = decodeFloat32(d.snapshot.output);
    values[7] = values[7]! + 5e-6;
    d.snapshot.output = encodeFloat32(values);
  });
  parseModelFile(tiny);

  expectError(
    broken((d) => (d.snapshot.inputShape = [2, 65])),
    "model-file/snapshot",
    /snapshot: shapes .* but the model has 1 channel/,
  );
  expectError(
    broken((d) => (d.snapshot.outputShape = [1, 100])),
    "model-file/snapshot",
    /input has 131 values and output 128, but their shapes \[1, 131\] and \[1, 100\] say 131 and 100/,
  );
  expectError(
    broken((d) => {
      const values = decodeFloat32(d.snapshot.output);
      values[0] = Number.NaN;
      d.snapshot.output = encodeFloat32(values);
    }),
    "model-file/snapshot",
    /snapshot: output holds values that are not finite/,
    { verify: false },
  );
  const absent = parseModelFile(broken((d) => delete d.snapshot));
  assert.deepEqual(absent.model.parameters.values, BASE_MODEL.parameters.values);
});

test("node: writeModelFile / readModelFile, no overwrite without asking, no temporary file left", async () => {
  const folder = await mkdtemp(join(tmpdir(), "deepsp-model-file-"));
  try {
    const path = join(folder, "amp.json");
    const config = { architecture: "tcn", width: 2, kernelSize: 3, dilations: [1, 2] };
    const model = createModel(config, { seed: 4 });
    await writeModelFile(path, { model, sampleRate: 48000, metadata: { name: "amp" } });
    const file = await readModelFile(path);
    assert.deepEqual(bits(file.model.parameters.values), bits(model.parameters.values));
    assert.equal(file.metadata.name, "amp");

    const other = createModel(config, { seed: 5 });
    await assert.rejects(writeModelFile(path, { model: other, sampleRate: 48000 }), {
      name: "FileError",
      code: "file/exists",
    });
    assert.deepEqual(
      bits((await readModelFile(path)).model.parameters.values),
      bits(model.parameters.values),
    );
    await writeModelFile(path, { model: other, sampleRate: 48000 }, { overwrite: true });
    assert.deepEqual(
      bits((await readModelFile(path)).model.parameters.values),
      bits(other.parameters.values),
    );
    assert.deepEqual(await readdir(folder), ["amp.json"]);

    await assert.rejects(readModelFile(join(folder, "missing.json")), { code: "file/read" });
    const bad = join(folder, "bad.json");
    await writeFile(bad, "{}");
    await assert.rejects(readModelFile(bad), (error: unknown) => {
      assert.ok(error instanceof ModelFileError);
      assert.ok(error.message.startsWith(`${bad}: format`), error.message);
      return true;
    });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
