/**
 * deepsp's native model file: one UTF-8 JSON document that holds everything needed to rebuild a trained
 * model and to check that it was rebuilt right.
 *
 * ```json
 * {
 *   "format": "deepsp-model",
 *   "version": 1,
 *   "architecture": "tcn",
 *   "config": { "architecture": "tcn", "channels": 1, "width": 2, "kernelSize": 2, "dilations": [1, 2], ... },
 *   "sampleRate": 48000,
 *   "channels": 1,
 *   "receptiveField": 4,
 *   "latencySamples": 0,
 *   "tensors": [
 *     { "name": "input.weight", "shape": [2, 1, 1], "offset": 0 },
 *     { "name": "input.bias", "shape": [2], "offset": 2 },
 *     ...
 *   ],
 *   "weightsEncoding": "float32-le-base64",
 *   "weights": "3A2NPqBKvb4...",
 *   "metadata": {
 *     "name": "tube screamer, drive 6",
 *     "createdAt": "2026-11-25T08:42:32.058Z",
 *     "deepspVersion": "0.1.0",
 *     "training": { "data": { "effect": "ts9 drive=6", "material": "standard" }, "epochs": 100, "bestEpoch": 87 },
 *     "metrics": { "validationEsr": 0.012, "testEsr": 0.014 }
 *   },
 *   "snapshot": { "inputShape": [1, 131], "outputShape": [1, 128], "input": "...", "output": "..." }
 * }
 * ```
 *
 * Fields (all required unless marked optional):
 * - `format`: always "deepsp-model". `version`: the format version, an integer; this code reads 1 and
 *   refuses newer versions. Any change a version-1 reader could not ignore bumps it, so unknown top-level
 *   fields are refused; free-form additions belong in `metadata`.
 * - `architecture`, `config`: the model config as `model.toConfig()` returns it (defaults filled), validated
 *   and written in the registry schema's field order; on load it goes through `parseModelConfig` and
 *   `createModel`, so an unknown architecture or a bad field is refused naming the field.
 * - `sampleRate` (Hz) the model was trained at; `channels` (audio channels in and out);
 *   `receptiveField` (samples; informational, cross-checked against the rebuilt model);
 *   `latencySamples` (samples the output lags the input; 0 for deepsp's own models).
 * - `tensors`: name, shape and offset of every parameter tensor, in the model's parameter order (the names
 *   are `Parameters` entry names such as "layers.0.conv.weight"). On load the set of names, every shape and
 *   every offset must equal what the rebuilt model expects: no missing, extra or duplicate tensors.
 * - `weights`: all parameters as one flat array of IEEE-754 float32 values, little-endian, base64
 *   (RFC 4648, standard alphabet, padded); `weightsEncoding` says so ("float32-le-base64"). Bit-exact and
 *   about 5.3 characters per weight. The count must equal the sum of the tensor sizes, and every value
 *   must be finite.
 * - `metadata`: free-form JSON, typed where known (see ModelMetadata); `createdAt` (ISO 8601) and
 *   `deepspVersion` are required, everything else optional. Unknown keys are kept as they are.
 * - `snapshot` (optional): a short deterministic input, `inputShape` [channels, receptiveField - 1 + 128],
 *   seeded uniform noise peaking at -12 dBFS, and the model's output for it, `outputShape` [channels, n],
 *   both channel-major in the weights' encoding. Recurrent models run from zero state. Any runtime can
 *   replay it to check itself; `parseModelFile` does so by default and refuses the file when
 *   max |difference| > 1e-5 * max(1, peak |output|).
 *
 * Errors are ModelFileErrors whose message starts with the source (a file path) and names the field:
 *   model.json: tensors[3] (layers.0.conv.weight): shape [16, 1, 3] but the model expects [16, 2, 3]
 *
 * Precedents: NAM's `.nam` (version field, weight-count checks in `get_dsp`), AIDA-X's input/output batch.
 * Platform-neutral: no node:* imports and no atob/btoa (the base64 codec is below); TextDecoder only
 * when parseModelFile is given bytes.
 */
import { z } from "zod";
import { decodeBase64, encodeBase64 } from "../core/base64.ts";
import { DeepspError } from "../core/errors.ts";
import { valueAt } from "../core/options.ts";
import { deriveSeed, Rng } from "../core/rng.ts";
import { sequence } from "../nn/layers/sequence.ts";
import type { Model } from "../nn/models/model.ts";
import { createModel, parseModelConfig } from "../nn/models/registry.ts";

/** The deepsp release that writes files (kept equal to package.json's version by a test). */
export const DEEPSP_VERSION = "0.1.0";
export const MODEL_FILE_FORMAT = "deepsp-model";
/** The newest format version this code reads, and the one it writes. */
export const MODEL_FILE_VERSION = 1;
export const WEIGHTS_ENCODING = "float32-le-base64";
/** Samples of snapshot output per channel (the input adds receptiveField - 1 samples of history). */
export const SNAPSHOT_SAMPLES = 128;
/** Peak level of the snapshot's noise: -12 dBFS. */
const SNAPSHOT_PEAK = 10 ** (-12 / 20);
const SNAPSHOT_SEED = 0x5eed;
const SNAPSHOT_TOLERANCE = 1e-5;

/**
 * A model file that cannot be used. Codes: model-file/not-json, /format, /version, /missing-field, /field,
 * /config, /tensor, /weights, /snapshot, /metadata.
 */
export class ModelFileError extends DeepspError {}

/** What the model was trained on and how (as recorded by the trainer; every field optional). */
export interface TrainingMetadata {
  /** Provenance of the training pair. */
  data?: {
    /** Input/target files, as given. */
    files?: string[];
    /** The reference effect chain, as the CLI spells it ("ts9 drive=6 | reverb"). */
    effect?: string;
    /** The generated material (catalogue name) or a description of the recording. */
    material?: string;
    [key: string]: unknown;
  };
  /** The split spec and the regions it produced (src/data/split.ts Split). */
  split?: Record<string, unknown>;
  /** The loss config (src/train/losses LossConfig). */
  loss?: Record<string, unknown>;
  epochs?: number;
  /** The epoch whose weights these are (best validation loss), counted from 1. */
  bestEpoch?: number;
  trainingSeconds?: number;
  seed?: number;
  learningRate?: number;
  [key: string]: unknown;
}

/** Scores on held-out audio; ESR = error-to-signal ratio (Wright & Välimäki), lower is better. */
export interface ModelMetrics {
  validationEsr?: number;
  testEsr?: number;
  [key: string]: unknown;
}

/** The metadata fields a writer may set; see ModelMetadata. */
export interface ModelMetadataInput {
  name?: string;
  /** ISO 8601 date and time the file was written (default: now). */
  createdAt?: string;
  /** The deepsp release that wrote the file (default: DEEPSP_VERSION). */
  deepspVersion?: string;
  training?: TrainingMetadata;
  metrics?: ModelMetrics;
  /** Latency (samples) removed from the target when the pair was aligned before training. */
  latencyRemovedSamples?: number;
  /** Loudness of the model's output on the standard material (dB). */
  loudnessDb?: number;
  /** Anything else: kept on load and written back unchanged. */
  [key: string]: unknown;
}

/** Metadata as read from a file: createdAt and deepspVersion are always there. */
export interface ModelMetadata extends ModelMetadataInput {
  createdAt: string;
  deepspVersion: string;
}

/** A loaded model file. */
export interface ModelFile {
  model: Model;
  /** Hz. */
  sampleRate: number;
  /** Samples the output lags the input (0 for deepsp's own models). */
  latencySamples: number;
  metadata: ModelMetadata;
}

/** What serializeModel takes: createdAt defaults to now, deepspVersion to this release, latency to 0. */
export interface ModelFileInput {
  model: Model;
  sampleRate: number;
  latencySamples?: number;
  metadata?: ModelMetadataInput;
}

// ---------------------------------------------------------------------------------------------------------
// Schemas (structure only; the config is validated by the model registry, tensors against the model).

const finite = () => z.number().refine(Number.isFinite, "expected a finite number");
const looseRecord = z.record(z.string(), z.unknown());

const metadataSchema = z.looseObject({
  name: z.string().optional(),
  createdAt: z.iso.datetime({ offset: true }),
  deepspVersion: z.string().min(1),
  training: z
    .looseObject({
      data: z
        .looseObject({
          files: z.array(z.string()).optional(),
          effect: z.string().optional(),
          material: z.string().optional(),
        })
        .optional(),
      split: looseRecord.optional(),
      loss: looseRecord.optional(),
      epochs: z.number().int().min(0).optional(),
      bestEpoch: z.number().int().min(0).optional(),
      trainingSeconds: finite().min(0).optional(),
      seed: z.number().int().optional(),
      learningRate: finite().min(0).optional(),
    })
    .optional(),
  metrics: z.looseObject({ validationEsr: finite().optional(), testEsr: finite().optional() }).optional(),
  latencyRemovedSamples: z.number().int().optional(),
  loudnessDb: finite().optional(),
});

const tensorSchema = z.strictObject({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(0)),
  offset: z.number().int().min(0),
});

const floatsShape = z.tuple([z.number().int().min(1), z.number().int().min(1)]);

const documentSchema = z.strictObject({
  format: z.literal(MODEL_FILE_FORMAT),
  version: z.number().int(),
  architecture: z.string(),
  config: looseRecord,
  sampleRate: finite().positive(),
  channels: z.number().int().min(1),
  receptiveField: z.number().int().min(1),
  latencySamples: z.number().int().min(0),
  tensors: z.array(tensorSchema),
  weightsEncoding: z.string(),
  weights: z.string(),
  metadata: metadataSchema,
  snapshot: z
    .strictObject({
      inputShape: floatsShape,
      outputShape: floatsShape,
      input: z.string(),
      output: z.string(),
    })
    .optional(),
});

type ModelDocument = z.output<typeof documentSchema>;
type Snapshot = NonNullable<ModelDocument["snapshot"]>;

// ---------------------------------------------------------------------------------------------------------
// Writing

/**
 * Serializes a model with its sample rate and metadata to the JSON text of a model file (ends with a
 * newline). Deterministic: serializeModel(parseModelFile(text)) === text. Refuses (ModelFileError) a
 * model whose config does not validate, non-finite weights, or metadata of the wrong types, so that
 * every file written can be read back. The caller's model is not touched: the snapshot is computed on a
 * copy rebuilt from the file's own config and float32 weights, exactly as a reader will.
 */
export function serializeModel(file: ModelFileInput, options: { source?: string } = {}): string {
  const source = options.source ?? "model file";
  const { model } = file;
  const config = checkedConfig(model.toConfig(), source);
  const values = model.parameters.values;
  const weights = Float32Array.from(values);
  checkFinite(weights, model, source);
  const metadata = checkedMetadata(
    {
      ...(file.metadata ?? {}),
      createdAt: file.metadata?.createdAt ?? new Date().toISOString(),
      deepspVersion: file.metadata?.deepspVersion ?? DEEPSP_VERSION,
    },
    source,
  );
  if (!(Number.isFinite(file.sampleRate) && file.sampleRate > 0)) {
    throw new ModelFileError(
      "model-file/field",
      `${source}: sampleRate: expected a number of Hz > 0, got ${file.sampleRate}`,
    );
  }
  const latencySamples = file.latencySamples ?? 0;
  if (!(Number.isInteger(latencySamples) && latencySamples >= 0)) {
    throw new ModelFileError(
      "model-file/field",
      `${source}: latencySamples: expected a whole number >= 0, got ${latencySamples}`,
    );
  }
  // The copy a reader will build: it must have this model's layout, or the file could not be read back.
  const copy = buildModel(config, source);
  const tensors = model.parameters.entries.map(({ name, shape, offset }) => ({
    name,
    shape: [...shape],
    offset,
  }));
  checkLayout(
    copy,
    model.channels,
    model.receptiveField,
    tensors,
    `${source}: model.toConfig() rebuilds another model: `,
  );
  copy.parameters.values.set(weights);
  const document: ModelDocument = {
    format: MODEL_FILE_FORMAT,
    version: MODEL_FILE_VERSION,
    architecture: config.architecture,
    config,
    sampleRate: file.sampleRate,
    channels: model.channels,
    receptiveField: model.receptiveField,
    latencySamples,
    tensors,
    weightsEncoding: WEIGHTS_ENCODING,
    weights: encodeFloat32(weights),
    metadata,
    snapshot: makeSnapshot(copy, source),
  };
  return `${formatJson(document, "")}\n`;
}

function checkedConfig(config: unknown, source: string): { architecture: string } & Record<string, unknown> {
  try {
    return parseModelConfig(config, `${source}: config`) as { architecture: string } & Record<
      string,
      unknown
    >;
  } catch (error) {
    throw wrap("model-file/config", error);
  }
}

function checkedMetadata(metadata: unknown, source: string): ModelMetadata {
  // A JSON copy: what is written is exactly what a reader will see (Dates become strings, undefined goes).
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(metadata));
  } catch (error) {
    throw wrap("model-file/metadata", error, `${source}: metadata: not JSON data: `);
  }
  const result = metadataSchema.safeParse(copy);
  if (!result.success) throw issuesError(result.error.issues, copy, source, "metadata.");
  return copy as ModelMetadata;
}

/** The snapshot input: seeded uniform noise in [-peak, peak], peak -12 dBFS, [channels, length]. */
function snapshotInput(channels: number, length: number): Float32Array {
  const input = new Float32Array(channels * length);
  for (let c = 0; c < channels; c++) {
    const rng = new Rng(deriveSeed(SNAPSHOT_SEED, "snapshot", c));
    for (let t = 0; t < length; t++) input[c * length + t] = rng.uniform(-SNAPSHOT_PEAK, SNAPSHOT_PEAK);
  }
  return input;
}

function makeSnapshot(model: Model, source: string): Snapshot {
  const length = model.receptiveField - 1 + SNAPSHOT_SAMPLES;
  const input = snapshotInput(model.channels, length);
  const output = runSnapshot(model, input, model.channels, length, source);
  return {
    inputShape: [model.channels, length],
    outputShape: [model.channels, output.length / model.channels],
    input: encodeFloat32(input),
    output: encodeFloat32(output),
  };
}

/** model.forward on one [channels, length] input from zero state; returns a float32 copy of the output. */
function runSnapshot(
  model: Model,
  input: Float32Array,
  channels: number,
  length: number,
  source: string,
): Float32Array {
  model.setCarryState(false);
  model.resetState();
  let output: Float32Array;
  try {
    output = Float32Array.from(model.forward(sequence(Float32Array.from(input), 1, channels, length)).data);
  } catch (error) {
    throw wrap("model-file/snapshot", error, `${source}: snapshot: the model cannot run it: `);
  } finally {
    model.resetState();
  }
  const bad = output.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) {
    throw new ModelFileError(
      "model-file/snapshot",
      `${source}: snapshot: the model's output ${output[bad]} at value ${bad} is not finite (diverged weights?)`,
    );
  }
  return output;
}

// ---------------------------------------------------------------------------------------------------------
// Reading

/**
 * Parses and validates a model file (JSON text, or its UTF-8 bytes) and rebuilds the model with its weights.
 * `source` (a file path) starts every error message; `verify` (default true) replays the embedded snapshot
 * and refuses the file if the output differs. Throws ModelFileError; see the top of this file.
 */
export function parseModelFile(
  input: string | Uint8Array,
  options: { source?: string; verify?: boolean } = {},
): ModelFile {
  const source = options.source ?? "model file";
  const text = typeof input === "string" ? input : decodeUtf8(input, source);
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new ModelFileError(
      "model-file/not-json",
      `${source}: not a deepsp model file: not valid JSON (${messageOf(error)})`,
      { cause: error },
    );
  }
  const document = checkDocument(json, source);
  const config = checkedConfig(document.config, source);
  if (document.architecture !== config.architecture) {
    throw new ModelFileError(
      "model-file/config",
      `${source}: architecture: "${document.architecture}" but config.architecture is "${config.architecture}"`,
    );
  }
  const model = buildModel(config, source);
  checkLayout(model, document.channels, document.receptiveField, document.tensors, `${source}: `);
  const weights = decodeWeights(document, model, source);
  model.parameters.values.set(weights);
  if (document.snapshot) checkSnapshot(document.snapshot, model, options.verify ?? true, source);
  return {
    model,
    sampleRate: document.sampleRate,
    latencySamples: document.latencySamples,
    metadata: document.metadata as ModelMetadata,
  };
}

function checkDocument(json: unknown, source: string): ModelDocument {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ModelFileError(
      "model-file/format",
      `${source}: not a deepsp model file: expected a JSON object, got ${describe(json)}`,
    );
  }
  const record = json as Record<string, unknown>;
  if (record["format"] !== MODEL_FILE_FORMAT) {
    const nam = typeof record["version"] === "string" && "architecture" in record && "weights" in record;
    throw new ModelFileError(
      "model-file/format",
      `${source}: format: expected "${MODEL_FILE_FORMAT}", got ${describe(record["format"])}` +
        (nam ? " (this looks like a NAM .nam file: import it as one)" : ""),
    );
  }
  const version = record["version"];
  if (version === undefined) {
    throw new ModelFileError("model-file/missing-field", `${source}: version: missing`);
  }
  if (!(typeof version === "number" && Number.isInteger(version) && version >= 1)) {
    throw new ModelFileError(
      "model-file/version",
      `${source}: version: expected a whole number >= 1, got ${describe(version)}`,
    );
  }
  if (version > MODEL_FILE_VERSION) {
    throw new ModelFileError(
      "model-file/version",
      `${source}: version: the file has format version ${version}, but this deepsp (${DEEPSP_VERSION}) reads ` +
        `version ${MODEL_FILE_VERSION} and older; update deepsp to load it`,
    );
  }
  const result = documentSchema.safeParse(json);
  if (!result.success) throw issuesError(result.error.issues, json, source, "");
  // The schema's output reorders keys; keep the file's own objects (metadata round-trips key for key).
  return json as ModelDocument;
}

function buildModel(config: { architecture: string }, source: string): Model {
  try {
    return createModel(config);
  } catch (error) {
    throw wrap(
      "model-file/config",
      error,
      `${source}: config: cannot build the ${config.architecture} model: `,
    );
  }
}

/** The file's header and tensor list against the model its config builds; messages start with `prefix`. */
function checkLayout(
  model: Model,
  channels: number,
  receptiveField: number,
  tensors: ModelDocument["tensors"],
  prefix: string,
): void {
  for (const [field, value] of [
    ["channels", channels],
    ["receptiveField", receptiveField],
  ] as const) {
    if (value !== model[field]) {
      throw new ModelFileError(
        "model-file/config",
        `${prefix}${field}: ${value} but the config builds a model with ${model[field]}`,
      );
    }
  }
  checkTensors(tensors, model, prefix);
}

function checkTensors(tensors: ModelDocument["tensors"], model: Model, prefix: string): void {
  const at = (i: number) => `${prefix}tensors[${i}] (${tensors[i]!.name})`;
  const seen = new Map<string, number>();
  for (const [i, tensor] of tensors.entries()) {
    const previous = seen.get(tensor.name);
    if (previous !== undefined) {
      throw new ModelFileError("model-file/tensor", `${at(i)}: the same name as tensors[${previous}]`);
    }
    seen.set(tensor.name, i);
  }
  const expected = model.parameters.entries;
  const known = new Set(expected.map((entry) => entry.name));
  for (const [i, tensor] of tensors.entries()) {
    if (!known.has(tensor.name)) {
      throw new ModelFileError(
        "model-file/tensor",
        `${at(i)}: the ${model.architecture} model has no tensor of this name (it has ${listNames(expected)})`,
      );
    }
  }
  for (const entry of expected) {
    const i = seen.get(entry.name);
    if (i === undefined) {
      throw new ModelFileError(
        "model-file/tensor",
        `${prefix}tensors: "${entry.name}" (shape ${formatShape(entry.shape)}) is missing; the model expects it`,
      );
    }
    const tensor = tensors[i]!;
    if (formatShape(tensor.shape) !== formatShape(entry.shape)) {
      throw new ModelFileError(
        "model-file/tensor",
        `${at(i)}: shape ${formatShape(tensor.shape)} but the model expects ${formatShape(entry.shape)}`,
      );
    }
    if (tensor.offset !== entry.offset) {
      throw new ModelFileError(
        "model-file/tensor",
        `${at(i)}: offset ${tensor.offset} but the model expects ${entry.offset}`,
      );
    }
  }
}

function decodeWeights(document: ModelDocument, model: Model, source: string): Float32Array {
  if (document.weightsEncoding !== WEIGHTS_ENCODING) {
    throw new ModelFileError(
      "model-file/weights",
      `${source}: weightsEncoding: expected "${WEIGHTS_ENCODING}", got ${describe(document.weightsEncoding)}`,
    );
  }
  const weights = decodeFloat32(document.weights, `${source}: weights`, "model-file/weights");
  const count = model.parameters.count;
  if (weights.length !== count) {
    throw new ModelFileError(
      "model-file/weights",
      `${source}: weights: ${weights.length} values but the model expects ${count} (the sum of its tensor sizes)`,
    );
  }
  checkFinite(weights, model, source);
  return weights;
}

function checkFinite(weights: Float32Array, model: Model, source: string): void {
  for (let i = 0; i < weights.length; i++) {
    if (Number.isFinite(weights[i]!)) continue;
    const entry = model.parameters.entries.find((e) => i >= e.offset && i < e.offset + e.size);
    const where = entry ? ` (${entry.name}[${i - entry.offset}])` : "";
    throw new ModelFileError(
      "model-file/weights",
      `${source}: weights[${i}]${where}: ${weights[i]} is not a finite number`,
    );
  }
}

function checkSnapshot(snapshot: Snapshot, model: Model, verify: boolean, source: string): void {
  const [inChannels, inLength] = snapshot.inputShape;
  const [outChannels, outLength] = snapshot.outputShape;
  const fail = (message: string) =>
    new ModelFileError("model-file/snapshot", `${source}: snapshot: ${message}`);
  if (inChannels !== model.channels || outChannels !== model.channels) {
    throw fail(
      `shapes ${formatShape(snapshot.inputShape)} -> ${formatShape(snapshot.outputShape)} but the model has ${model.channels} channel(s)`,
    );
  }
  const input = decodeFloat32(snapshot.input, `${source}: snapshot.input`, "model-file/snapshot");
  const output = decodeFloat32(snapshot.output, `${source}: snapshot.output`, "model-file/snapshot");
  if (input.length !== inChannels * inLength || output.length !== outChannels * outLength) {
    throw fail(
      `input has ${input.length} values and output ${output.length}, but their shapes ` +
        `${formatShape(snapshot.inputShape)} and ${formatShape(snapshot.outputShape)} say ${inChannels * inLength} and ${outChannels * outLength}`,
    );
  }
  const bad = [input, output].findIndex((values) => values.some((value) => !Number.isFinite(value)));
  if (bad >= 0) throw fail(`${bad === 0 ? "input" : "output"} holds values that are not finite`);
  if (!verify) return;
  const actual = runSnapshot(model, input, inChannels, inLength, source);
  if (actual.length !== output.length) {
    throw fail(
      `the model gives ${actual.length / model.channels} samples per channel, the file ${outLength}`,
    );
  }
  let peak = 0;
  for (const value of output) peak = Math.max(peak, Math.abs(value));
  let worst = 0;
  let worstAt = 0;
  for (let i = 0; i < output.length; i++) {
    const difference = Math.abs(actual[i]! - output[i]!);
    // NaN compares false: treat it as the worst possible difference.
    if (!(difference <= worst)) {
      worst = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference;
      worstAt = i;
    }
  }
  const tolerance = SNAPSHOT_TOLERANCE * Math.max(1, peak);
  if (worst > tolerance) {
    throw fail(
      `snapshot mismatch: the weights or the runtime differ (max |difference| ${worst.toPrecision(3)} at ` +
        `channel ${Math.floor(worstAt / outLength)}, sample ${worstAt % outLength}; tolerance ${tolerance.toPrecision(3)})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Errors

function issuesError(
  issues: readonly z.core.$ZodIssue[],
  json: unknown,
  source: string,
  prefix: string,
): Error {
  let code = "model-file/field";
  const problems = issues.map((issue, index) => {
    const path = prefix + formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      // An unknown top-level field means a different format; one inside a field is a bad value.
      if (index === 0) code = prefix || issue.path.length > 0 ? "model-file/field" : "model-file/format";
      const where = path ? `${path}: ` : "";
      return `${where}unknown field ${issue.keys.map((key) => `"${key}"`).join(", ")}`;
    }
    const value = valueAt(json, issue.path);
    if (value === undefined) {
      if (index === 0) code = "model-file/missing-field";
      return `${path}: missing`;
    }
    const message = issue.message
      .replace(/^Invalid input: /, "")
      .replace(/^Too (small|big): /, "")
      .replace(/, received \w+$/, "");
    return `${path}: ${message}, got ${describe(value)}`;
  });
  return new ModelFileError(code, `${source}: ${problems.join("; ")}`);
}

function wrap(code: string, error: unknown, prefix = ""): ModelFileError {
  return new ModelFileError(code, prefix + messageOf(error), { cause: error });
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path)
    text += typeof key === "number" ? `[${key}]` : text ? `.${String(key)}` : String(key);
  return text;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function listNames(entries: readonly { name: string }[]): string {
  const names = entries.map((entry) => entry.name);
  return names.length > 8
    ? `${names.slice(0, 8).join(", ")}, ... (${names.length} in all)`
    : names.join(", ");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new ModelFileError("model-file/not-json", `${source}: not a deepsp model file: not UTF-8 text`, {
      cause: error,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// float32 <-> base64, little-endian on every platform.

/** float32 values -> little-endian bytes -> base64 (float64 input is rounded to float32). */
export function encodeFloat32(values: ArrayLike<number>): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return encodeBase64(bytes);
}

/** The inverse of encodeFloat32; errors name `what` and carry `code`. */
export function decodeFloat32(
  text: string,
  what = "float32 data",
  code = "model-file/weights",
): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(text);
  } catch (error) {
    throw wrap(code, error, `${what}: `);
  }
  if (bytes.length % 4 !== 0) {
    throw new ModelFileError(code, `${what}: ${bytes.length} bytes is not a whole number of float32 values`);
  }
  const values = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return values;
}

// ---------------------------------------------------------------------------------------------------------
// Deterministic JSON layout: a value goes on one line when it fits, else one member per line.

const LINE_WIDTH = 110;

function formatJson(value: unknown, indent: string, used = 0): string {
  const inline = inlineJson(value);
  if (value === null || typeof value !== "object" || indent.length + used + inline.length <= LINE_WIDTH) {
    return inline;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((item) => inner + formatJson(item, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, item]) => item !== undefined);
  if (entries.length === 0) return "{}";
  const lines = entries.map(([key, item]) => {
    const head = `${JSON.stringify(key)}: `;
    return inner + head + formatJson(item, inner, head.length);
  });
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

function inlineJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((item) => inlineJson(item ?? null)).join(", ")}]`;
  const entries = Object.entries(value).filter(([, item]) => item !== undefined);
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([key, item]) => `${JSON.stringify(key)}: ${inlineJson(item)}`).join(", ")} }`;
}
