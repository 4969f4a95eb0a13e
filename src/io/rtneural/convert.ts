/**
 * deepsp `lstm` / `gru` models <-> RTNeural JSON as AIDA-X plays it, platform-neutral: the caller reads and
 * writes the text.
 *
 * The file (RTNeural python/model_utils.py `save_model_json`; AIDA-X's additions from
 * Automated-GuitarAmpModelling model_utils.py, read by AIDA-X src/aidadsp-plugin.cpp):
 *   { "in_shape": [null, null, 1],                   the last entry is the input size (1: audio only)
 *     "in_skip": 0 | 1,                              1: output = input + network(input)
 *     "in_gain": dB, "out_gain": dB,                 optional gains around the network (absent = 0 dB)
 *     "layers": [
 *       { "type": "lstm" | "gru", "activation": "tanh", "shape": [null, null, H],
 *         "weights": [kernel [1][G*H], recurrent_kernel [H][G*H], bias] },   G = 4 (lstm), 3 (gru)
 *       { "type": "dense", "activation": "", "shape": [null, null, 1], "weights": [kernel [H][1], bias [1]] } ],
 *     "input_batch": [...], "output_batch": [...],   a test input and the model's output for it
 *     "metadata": { "name", "samplerate": "48000", "esr", ... } }
 * Keras layouts (./keras.ts): kernels transposed from PyTorch's; LSTM gates i, f, c, o (PyTorch's order) with
 * one summed bias [4H] (../lstm-bias.ts); GRU gates z, r, h (PyTorch: r, z, n) with bias [2][3H] = [input
 * bias, recurrent bias] (Keras reset_after = true, PyTorch's equations).
 *
 * What is expressible: one recurrent layer, mono, the head linear (AIDA-X plays one lstm/gru layer and a dense
 * layer; hidden sizes 8, 12, 16, 20, 24, 32, 40, 64 and 80 are the ones its build includes, other sizes play in
 * RTNeural's generic loader). Gains: deepsp models have none, and with in_skip the input gain scales the skip
 * path too, which no weight can absorb; rather than fold them into the weights for some files and not others,
 * only 0 dB (or no gain) is accepted, and none is written.
 *
 * input_batch / output_batch: written as RTNEURAL_BATCH_SAMPLES of seeded noise at -12 dBFS and the model's
 * output for it from zero state (computed on the model as a reader rebuilds it, so a round trip reproduces
 * the file); on import the model is run on the file's input_batch and refused when its output differs by more
 * than BATCH_TOLERANCE * max(1, peak |output|).
 */
import { DeepspError } from "../../core/errors.ts";
import { deriveSeed, Rng } from "../../core/rng.ts";
import { sequence } from "../../nn/layers/sequence.ts";
import type { Model } from "../../nn/models/model.ts";
import { parseModelConfig } from "../../nn/models/registry.ts";
import { RnnModel } from "../../nn/models/rnn.ts";
import { setSummedLstmBias, sumLstmBiases } from "../lstm-bias.ts";
import { DEEPSP_VERSION, type ModelFile, type ModelFileInput, type ModelMetadata } from "../model-file.ts";
import { nestRows, swapGruGates, transposeMatrix } from "./keras.ts";

/** An RTNeural/AIDA-X file deepsp cannot read or write: `rtneural/<what>`, naming the file and field. */
export class RtneuralError extends DeepspError {}

export interface RtneuralLayer {
  type: string;
  activation: string;
  shape: (number | null)[];
  weights: unknown[];
}

/** An RTNeural/AIDA-X file as written (JSON.stringify it). */
export interface RtneuralDocument {
  in_shape: [null, null, 1];
  in_skip: 0 | 1;
  layers: RtneuralLayer[];
  input_batch: number[];
  output_batch: number[];
  metadata: Record<string, unknown>;
}

/** Samples of the embedded test vectors (what AIDA-X's trainer embeds). */
export const RTNEURAL_BATCH_SAMPLES = 2048;
const BATCH_PEAK = 10 ** (-12 / 20);
const BATCH_SEED = 0x5eed;
/**
 * Relative tolerance of the test-vector check: files from other runtimes (PyTorch, float32) differ from
 * deepsp's float32 kernels by rounding, which a recurrent model carries along the batch.
 */
const BATCH_TOLERANCE = 1e-4;
/** AIDA-X's training rate, assumed when the metadata does not say. */
const DEFAULT_SAMPLE_RATE = 48000;

/** A mono one-layer deepsp lstm or gru as an RTNeural/AIDA-X file; RtneuralError "rtneural/export" otherwise. */
export function rtneuralFromModelFile(
  file: ModelFileInput,
  options: { source?: string } = {},
): RtneuralDocument {
  const source = options.source ?? "model";
  const refuse = (why: string): never => {
    throw new RtneuralError("rtneural/export", `${source}: cannot write an RTNeural/AIDA-X file: ${why}`);
  };
  const { model } = file;
  const config = parseModelConfig(model.toConfig());
  if (config.architecture !== "lstm" && config.architecture !== "gru")
    return refuse(`a ${config.architecture} model: these files hold lstm and gru models here`);
  if (config.channels !== 1)
    refuse(`the model has ${config.channels} channels; AIDA-X plays mono models (in_shape [null, null, 1])`);
  if (config.layers !== 1) refuse(`the model has ${config.layers} recurrent layers; AIDA-X plays one`);
  if ((file.latencySamples ?? 0) !== 0)
    refuse(`latencySamples is ${file.latencySamples}; these files have no latency field`);
  const { hidden, architecture: cell } = config;
  const tensor = (name: string) => model.parameters.value(name);
  const recurrent: RtneuralLayer = {
    type: cell,
    activation: "tanh",
    shape: [null, null, hidden],
    weights: cell === "lstm" ? kerasLstmWeights(tensor, hidden) : kerasGruWeights(tensor, hidden),
  };
  const dense: RtneuralLayer = {
    type: "dense",
    activation: "",
    shape: [null, null, 1],
    weights: [
      nestRows(transposeMatrix(tensor("head.weight"), 1, hidden), hidden, 1),
      Array.from(tensor("head.bias")),
    ],
  };
  const layers = [recurrent, dense];
  const copy = modelFromLayers(layers, config.inputSkip, source);
  const input = batchInput();
  return {
    in_shape: [null, null, 1],
    in_skip: config.inputSkip ? 1 : 0,
    layers,
    input_batch: Array.from(input),
    output_batch: Array.from(runFromZeroState(copy, input)),
    metadata: rtneuralMetadataFrom(file),
  };
}

type Tensor = (name: string) => ArrayLike<number>;

/** [kernel [1][4H], recurrent_kernel [H][4H], bias [4H]] from rnn.0's PyTorch tensors (same gate order). */
function kerasLstmWeights(tensor: Tensor, hidden: number): unknown[] {
  const gates = 4 * hidden;
  return [
    nestRows(transposeMatrix(tensor("rnn.0.weight_ih"), gates, 1), 1, gates),
    nestRows(transposeMatrix(tensor("rnn.0.weight_hh"), gates, hidden), hidden, gates),
    Array.from(sumLstmBiases(tensor("rnn.0.bias_ih"), tensor("rnn.0.bias_hh"))),
  ];
}

/** [kernel [1][3H], recurrent_kernel [H][3H], bias [2][3H]] from rnn.0's PyTorch tensors, gates reordered. */
function kerasGruWeights(tensor: Tensor, hidden: number): unknown[] {
  const gates = 3 * hidden;
  const weightIh = swapGruGates(tensor("rnn.0.weight_ih"), hidden, 1);
  const weightHh = swapGruGates(tensor("rnn.0.weight_hh"), hidden, hidden);
  return [
    nestRows(transposeMatrix(weightIh, gates, 1), 1, gates),
    nestRows(transposeMatrix(weightHh, gates, hidden), hidden, gates),
    [
      Array.from(swapGruGates(tensor("rnn.0.bias_ih"), hidden)),
      Array.from(swapGruGates(tensor("rnn.0.bias_hh"), hidden)),
    ],
  ];
}

/**
 * An RTNeural/AIDA-X file (its text or parsed JSON) as a deepsp model file. With `verify` (default true) the
 * file's input_batch is run and the output compared with its output_batch. Throws RtneuralError naming
 * `source` and the field: "rtneural/unsupported" for what deepsp cannot express, "rtneural/field" for a
 * malformed file, "rtneural/snapshot" for a test-vector mismatch.
 */
export function modelFileFromRtneural(
  input: string | unknown,
  options: { source?: string; verify?: boolean } = {},
): ModelFile {
  const source = options.source ?? "RTNeural file";
  let json: unknown = input;
  if (typeof input === "string") {
    try {
      json = JSON.parse(input);
    } catch (error) {
      throw new RtneuralError("rtneural/json", `${source}: not JSON: ${(error as Error).message}`);
    }
  }
  const top = record(json, source);
  const inShape = top["in_shape"];
  if (!Array.isArray(inShape) || inShape.length === 0 || inShape[inShape.length - 1] !== 1) {
    const last = Array.isArray(inShape) ? inShape[inShape.length - 1] : undefined;
    throw new RtneuralError(
      typeof last === "number" && last > 1 ? "rtneural/unsupported" : "rtneural/field",
      `${source}: in_shape: expected [null, null, 1] (the last entry is the input size: audio only), got ${JSON.stringify(inShape)}` +
        (typeof last === "number" && last > 1
          ? " (AIDA-X's extra inputs are control parameters, which deepsp models do not have)"
          : ""),
    );
  }
  const inSkip = top["in_skip"] ?? 0;
  if (inSkip !== 0 && inSkip !== 1)
    throw new RtneuralError(
      "rtneural/field",
      `${source}: in_skip: expected 0 or 1, got ${JSON.stringify(inSkip)}`,
    );
  for (const field of ["in_gain", "out_gain"]) {
    const gain = top[field];
    if (gain === undefined || gain === 0) continue;
    throw new RtneuralError(
      typeof gain === "number" ? "rtneural/unsupported" : "rtneural/field",
      `${source}: ${field}: ${JSON.stringify(gain)} dB: deepsp models have no gains (only 0 dB is accepted)`,
    );
  }
  const layers = top["layers"];
  if (!Array.isArray(layers))
    throw new RtneuralError(
      "rtneural/field",
      `${source}: layers: expected an array, got ${JSON.stringify(layers)}`,
    );
  const model = modelFromLayers(layers, inSkip === 1, source);
  const file: ModelFile = {
    model,
    sampleRate: DEFAULT_SAMPLE_RATE,
    latencySamples: 0,
    metadata: { createdAt: new Date().toISOString(), deepspVersion: DEEPSP_VERSION },
  };
  if (top["metadata"] !== undefined)
    applyRtneuralMetadata(file, record(top["metadata"], `${source}: metadata`), source);
  checkBatches(top, model, options.verify ?? true, source);
  return file;
}

/** The recurrent layer and dense head as a deepsp RnnModel; errors name `layers[i]` fields. */
function modelFromLayers(layers: readonly unknown[], inputSkip: boolean, source: string): RnnModel {
  if (layers.length !== 2) {
    throw new RtneuralError(
      "rtneural/unsupported",
      `${source}: layers: expected 2 (one lstm or gru layer, then a dense layer of size 1), got ${layers.length}` +
        ` (${layers.map((layer) => JSON.stringify((layer as { type?: unknown } | null)?.type)).join(", ")})`,
    );
  }
  const [recurrentLayer, denseLayer] = layers.map((layer, i) => record(layer, `${source}: layers[${i}]`));
  const where = `${source}: layers[0]`;
  const cell = recurrentLayer!["type"];
  if (cell !== "lstm" && cell !== "gru") {
    throw new RtneuralError(
      "rtneural/unsupported",
      `${where}.type: expected "lstm" or "gru", got ${JSON.stringify(cell)}`,
    );
  }
  // RTNeural's recurrent layers always use tanh and ignore this field; "" is what AIDA-X's converter writes.
  checkActivation(recurrentLayer!, ["", "tanh"], where);
  const hidden = layerSize(recurrentLayer!, where);
  const model = new RnnModel({ cell, hidden, layers: 1, channels: 1, inputSkip });
  const weights = weightList(recurrentLayer!, 3, where);
  const set = (name: string, values: ArrayLike<number>) => model.parameters.value(name).set(values);
  const gates = (cell === "lstm" ? 4 : 3) * hidden;
  const kernel = transposeMatrix(readMatrix(weights[0], 1, gates, `${where}.weights[0] (kernel)`), 1, gates);
  const recurrent = transposeMatrix(
    readMatrix(weights[1], hidden, gates, `${where}.weights[1] (recurrent kernel)`),
    hidden,
    gates,
  );
  if (cell === "lstm") {
    set("rnn.0.weight_ih", kernel);
    set("rnn.0.weight_hh", recurrent);
    setSummedLstmBias(model.parameters, "rnn.0", readVector(weights[2], gates, `${where}.weights[2] (bias)`));
  } else {
    if (!Array.isArray(weights[2]) || !Array.isArray(weights[2][0])) {
      throw new RtneuralError(
        "rtneural/unsupported",
        `${where}.weights[2] (bias): expected [2][${gates}] (input and recurrent biases: a Keras GRU with reset_after = true, as RTNeural plays)`,
      );
    }
    const biases = readMatrix(weights[2], 2, gates, `${where}.weights[2] (bias)`);
    set("rnn.0.weight_ih", swapGruGates(kernel, hidden, 1));
    set("rnn.0.weight_hh", swapGruGates(recurrent, hidden, hidden));
    set("rnn.0.bias_ih", swapGruGates(biases.subarray(0, gates), hidden));
    set("rnn.0.bias_hh", swapGruGates(biases.subarray(gates), hidden));
  }
  const denseWhere = `${source}: layers[1]`;
  const denseType = denseLayer!["type"];
  if (denseType !== "dense" && denseType !== "time-distributed-dense") {
    throw new RtneuralError(
      "rtneural/unsupported",
      `${denseWhere}.type: expected "dense", got ${JSON.stringify(denseType)}`,
    );
  }
  checkActivation(denseLayer!, [""], denseWhere);
  const outputs = layerSize(denseLayer!, denseWhere);
  if (outputs !== 1) {
    throw new RtneuralError(
      "rtneural/unsupported",
      `${denseWhere}.shape: the output size is ${outputs}; deepsp models output 1 channel`,
    );
  }
  // A Keras Dense without bias has weights [kernel] alone; RTNeural then uses a zero bias.
  const denseWeights = weightList(denseLayer!, 1, denseWhere);
  set(
    "head.weight",
    transposeMatrix(readMatrix(denseWeights[0], hidden, 1, `${denseWhere}.weights[0] (kernel)`), hidden, 1),
  );
  set(
    "head.bias",
    denseWeights.length > 1 ? readVector(denseWeights[1], 1, `${denseWhere}.weights[1] (bias)`) : [0],
  );
  return model;
}

// ---------------------------------------------------------------------------------------------------------
// Test vectors

/** Seeded uniform noise in [-peak, peak] at -12 dBFS, float32. */
function batchInput(): Float32Array {
  const rng = new Rng(deriveSeed(BATCH_SEED, "rtneural"));
  return Float32Array.from({ length: RTNEURAL_BATCH_SAMPLES }, () => rng.uniform(-BATCH_PEAK, BATCH_PEAK));
}

function runFromZeroState(model: Model, input: Float32Array): Float32Array {
  model.setCarryState(false);
  model.resetState();
  const output = Float32Array.from(
    model.forward(sequence(Float32Array.from(input), 1, 1, input.length)).data,
  );
  model.resetState();
  return output;
}

function checkBatches(top: Record<string, unknown>, model: Model, verify: boolean, source: string): void {
  const present = [top["input_batch"] !== undefined, top["output_batch"] !== undefined];
  if (!present[0] && !present[1]) return;
  if (!present[0] || !present[1]) {
    throw new RtneuralError(
      "rtneural/field",
      `${source}: ${present[0] ? "output_batch" : "input_batch"}: missing (the test vectors come in pairs)`,
    );
  }
  const input = readVector(top["input_batch"], undefined, `${source}: input_batch`);
  const expected = readVector(top["output_batch"], input.length, `${source}: output_batch`);
  if (!verify) return;
  const actual = runFromZeroState(model, input);
  let peak = 0;
  let worst = 0;
  let worstAt = 0;
  for (let t = 0; t < expected.length; t++) {
    peak = Math.max(peak, Math.abs(expected[t]!));
    const difference = Math.abs(actual[t]! - expected[t]!);
    if (!(difference <= worst)) {
      worst = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference;
      worstAt = t;
    }
  }
  const tolerance = BATCH_TOLERANCE * Math.max(1, peak);
  if (worst > tolerance) {
    throw new RtneuralError(
      "rtneural/snapshot",
      `${source}: output_batch: the model's output differs from the file's (max |difference| ${worst.toPrecision(3)} at sample ${worstAt}; tolerance ${tolerance.toPrecision(3)}): the weights or their layout are not what the file's writer ran`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Metadata: AIDA-X's { name, samplerate, esr (the test ESR), ... }; the whole object is kept as
// metadata.rtneural and written back (with deepsp's current name, rate and test ESR over it).

function applyRtneuralMetadata(file: ModelFile, metadata: Record<string, unknown>, source: string): void {
  const rate = metadata["samplerate"];
  if (rate !== undefined) {
    const hz = typeof rate === "string" && rate.trim() !== "" ? Number(rate) : rate;
    if (!(typeof hz === "number" && Number.isFinite(hz) && hz > 0)) {
      throw new RtneuralError(
        "rtneural/field",
        `${source}: metadata.samplerate: expected a number of Hz, got ${JSON.stringify(rate)}`,
      );
    }
    file.sampleRate = hz;
  }
  const result: ModelMetadata = file.metadata;
  if (typeof metadata["name"] === "string") result.name = metadata["name"];
  const esr = metadata["esr"];
  if (typeof esr === "number" && Number.isFinite(esr)) result.metrics = { testEsr: esr };
  if (Object.keys(metadata).length > 0) result["rtneural"] = metadata;
}

function rtneuralMetadataFrom(file: ModelFileInput): Record<string, unknown> {
  const metadata = file.metadata ?? {};
  const kept = metadata["rtneural"];
  const result: Record<string, unknown> = {
    ...(kept !== null && typeof kept === "object" && !Array.isArray(kept) ? kept : {}),
    samplerate: String(file.sampleRate),
  };
  if (metadata.name !== undefined) result["name"] = metadata.name;
  if (metadata.metrics?.testEsr !== undefined) result["esr"] = metadata.metrics.testEsr;
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Field readers: every error names the field and what was expected.

function record(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new RtneuralError("rtneural/field", `${where}: expected a JSON object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function checkActivation(layer: Record<string, unknown>, allowed: readonly string[], where: string): void {
  const activation = layer["activation"] ?? "";
  if (typeof activation !== "string" || !allowed.includes(activation)) {
    throw new RtneuralError(
      "rtneural/unsupported",
      `${where}.activation: ${JSON.stringify(activation)} is not supported (expected ${allowed.map((a) => JSON.stringify(a)).join(" or ")})`,
    );
  }
}

/** The last entry of the layer's `shape` (its output size). */
function layerSize(layer: Record<string, unknown>, where: string): number {
  const shape = layer["shape"];
  const size = Array.isArray(shape) ? shape[shape.length - 1] : undefined;
  if (!(typeof size === "number" && Number.isInteger(size) && size >= 1)) {
    throw new RtneuralError(
      "rtneural/field",
      `${where}.shape: expected [null, null, size] with a whole size >= 1, got ${JSON.stringify(shape)}`,
    );
  }
  return size;
}

function weightList(layer: Record<string, unknown>, minimum: number, where: string): unknown[] {
  const weights = layer["weights"];
  if (!Array.isArray(weights) || weights.length < minimum) {
    throw new RtneuralError(
      "rtneural/field",
      `${where}.weights: expected a list of at least ${minimum} arrays, got ${describe(weights)}`,
    );
  }
  return weights;
}

/** A flat array of finite numbers, of `length` when given. */
function readVector(value: unknown, length: number | undefined, where: string): Float32Array {
  if (!Array.isArray(value) || (length !== undefined && value.length !== length)) {
    throw new RtneuralError(
      "rtneural/field",
      `${where}: expected an array of ${length ?? "some"} numbers, got ${describe(value)}${Array.isArray(value) ? ` (${value.length} entries)` : ""}`,
    );
  }
  const bad = value.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  if (bad >= 0)
    throw new RtneuralError(
      "rtneural/field",
      `${where}[${bad}]: expected a finite number, got ${describe(value[bad])}`,
    );
  return Float32Array.from(value as number[]);
}

/** Nested arrays [rows][cols] of finite numbers, flattened row-major. */
function readMatrix(value: unknown, rows: number, cols: number, where: string): Float32Array {
  if (!Array.isArray(value) || value.length !== rows) {
    throw new RtneuralError(
      "rtneural/field",
      `${where}: expected ${rows} rows of ${cols} numbers, got ${describe(value)}${Array.isArray(value) ? ` (${value.length} rows)` : ""}`,
    );
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(readVector(value[r], cols, `${where}[${r}]`), r * cols);
  return out;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
