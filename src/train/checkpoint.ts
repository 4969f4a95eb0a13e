import { z } from "zod";
import { decodeBase64, encodeBase64 } from "../core/base64.ts";
import { DeepspError, OptionError } from "../core/errors.ts";
import type { Region } from "../data/split.ts";
import type { SplitPair } from "../data/windows.ts";
import type { Floats } from "../nn/kernels/types.ts";
import type { FloatType } from "../nn/parameters.ts";
import type { LossConfig } from "./losses/index.ts";
import type { AdamState } from "./optimizer.ts";
import type { ScheduleConfig, ScheduleState } from "./schedule.ts";

/**
 * Training checkpoints: everything a run needs to continue bit-exactly (parameters, Adam's moments and step,
 * the schedule's state, best-model tracking, early-stopping and divergence counters, history, settings,
 * a fingerprint of the data), as a plain object, and its JSON form. Float arrays are stored as base64 of
 * their little-endian bytes with their type, length and an FNV-1a hash, so they round-trip bit for bit and
 * a damaged payload is detected. Non-finite numbers (the plateau schedule's initial best, +Infinity) are
 * written as the strings "Infinity", "-Infinity", "NaN". Platform-neutral: the node side
 * (src/node/checkpoints.ts) writes the bytes atomically.
 */

export const CHECKPOINT_FORMAT = "deepsp-checkpoint";
export const CHECKPOINT_VERSION = 1;

/** A corrupt, unreadable or incompatible checkpoint. */
export class CheckpointError extends DeepspError {}

// ---------------------------------------------------------------------------------------------------------
// Training settings: what must be equal for a resumed run to continue the same run.

const positiveInt = () => z.number().int().min(1);
const isObject = (value: unknown): boolean =>
  value !== null && typeof value === "object" && !Array.isArray(value);

export const DEFAULT_ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 } as const;

/**
 * The training settings, validated at the public boundary (train options) and when a checkpoint is read.
 * `loss` and `schedule` are checked as objects here and fully by createLoss / Schedule.
 */
export const trainSettingsSchema = z.strictObject({
  epochs: positiveInt().describe("epochs to train (a resumed run may ask for more than the checkpoint's)"),
  batchSize: positiveInt().describe("windows per optimizer step"),
  learningRate: z.number().positive().max(1e3).describe("Adam's initial step size"),
  schedule: z
    .custom<ScheduleConfig>(isObject, { message: 'expected a schedule config such as { type: "constant" }' })
    .default({ type: "constant" }),
  loss: z.custom<LossConfig>(isObject, { message: 'expected a loss config such as { type: "mse" }' }),
  windowLength: positiveInt().describe("target frames per training window (after the burn-in)"),
  overlap: z.number().positive().default(10).describe("each frame lands in about this many windows"),
  hop: positiveInt().nullable().default(null).describe("frames between window starts (overrides overlap)"),
  stereo: z.enum(["keep", "split"]).default("keep"),
  burnIn: z.number().int().min(0).default(0).describe("recurrent models: frames run without loss first"),
  truncate: positiveInt()
    .nullable()
    .default(null)
    .describe("recurrent models: cut the gradient every N frames"),
  clipNorm: z.number().positive().nullable().default(null).describe("clip the gradient's L2 norm to this"),
  patience: positiveInt().nullable().default(null).describe("stop after N epochs without improvement"),
  seed: z.number().int().min(0).max(0xffffffff).default(0).describe("window shuffling seed"),
  adam: z
    .strictObject({
      beta1: z.number().min(0).lt(1).default(DEFAULT_ADAM.beta1),
      beta2: z.number().min(0).lt(1).default(DEFAULT_ADAM.beta2),
      epsilon: z.number().positive().default(DEFAULT_ADAM.epsilon),
      weightDecay: z.number().min(0).default(DEFAULT_ADAM.weightDecay),
    })
    .default({ ...DEFAULT_ADAM }),
});

/** Training settings with every default filled in (what checkpoints record). */
export type TrainSettings = z.output<typeof trainSettingsSchema>;
/** Training settings as a caller gives them (defaults optional). */
export type TrainSettingsInput = z.input<typeof trainSettingsSchema>;

// ---------------------------------------------------------------------------------------------------------
// Data fingerprint: a resumed run must see the same audio and the same split.

export interface PartFingerprint {
  name: string;
  sampleRate: number;
  channels: number;
  frames: number;
  train: Region[];
  validation: Region[];
  /** FNV-1a over the float32 bits of input and target in the train and validation regions (8 hex digits). */
  hash: string;
}

export interface DataFingerprint {
  parts: PartFingerprint[];
}

/** Describes the audio a run trains and validates on, cheaply enough to check on every resume. */
export function fingerprintData(parts: readonly SplitPair[]): DataFingerprint {
  return {
    parts: parts.map((part) => {
      const train = part.split.regions.train.map(({ start, end }) => ({ start, end }));
      const validation = part.split.regions.validation.map(({ start, end }) => ({ start, end }));
      let hash = 0x811c9dc5;
      for (const audio of [part.pair.input, part.pair.target]) {
        for (const channel of audio.channels) {
          const bits = new Uint32Array(channel.buffer, channel.byteOffset, channel.length);
          for (const region of [...train, ...validation]) {
            for (let i = region.start; i < region.end; i++) hash = Math.imul(hash ^ bits[i]!, 0x01000193);
          }
        }
      }
      return {
        name: part.name,
        sampleRate: part.pair.input.sampleRate,
        channels: part.pair.input.channels.length,
        frames: part.pair.input.channels[0]?.length ?? 0,
        train,
        validation,
        hash: (hash >>> 0).toString(16).padStart(8, "0"),
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The checkpoint.

/** One completed epoch. Epochs count from 1. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's windows. */
  trainLoss: number;
  validationEsr: number;
  validationLoss: number;
  /** The learning rate this epoch trained with. */
  learningRate: number;
  /** Wall-clock seconds for the epoch (training and validation). */
  seconds: number;
  /** Times the epoch diverged and was redone at a lower learning rate. */
  divergences: number;
}

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  /** "last": the state after the latest epoch; "best": the state after the best epoch so far. */
  kind: "last" | "best";
  /** ISO time of writing (informational). */
  savedAt: string;
  epochsCompleted: number;
  settings: TrainSettings;
  data: DataFingerprint;
  model: {
    config: { architecture: string } & Record<string, unknown>;
    floatType: FloatType;
    parameters: Floats;
  };
  optimizer: AdamState;
  schedule: ScheduleState;
  /** The best epoch so far by validation ESR (null before the first epoch ends). */
  best: { epoch: number; esr: number; loss: number; parameters: Floats } | null;
  /** Epochs since the best one (early stopping). */
  epochsWithoutImprovement: number;
  /** Divergences (NaN/inf rollbacks) in the whole run so far. */
  divergences: number;
  /** Validation of the untrained model. */
  initialValidation: { esr: number; loss: number } | null;
  history: EpochRecord[];
  /** Wall-clock training seconds so far (all runs together). */
  seconds: number;
}

// ---------------------------------------------------------------------------------------------------------
// Float arrays <-> base64.

interface EncodedArray {
  dtype: FloatType;
  length: number;
  /** FNV-1a of the bytes, 8 hex digits. */
  hash: string;
  base64: string;
}

function fnv1a(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

function encodeArray(values: Floats): EncodedArray {
  const dtype: FloatType = values instanceof Float64Array ? "float64" : "float32";
  const size = dtype === "float64" ? 8 : 4;
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    if (dtype === "float64") view.setFloat64(i * 8, values[i]!, true);
    else view.setFloat32(i * 4, values[i]!, true);
  }
  return { dtype, length: values.length, hash: fnv1a(bytes), base64: encodeBase64(bytes) };
}

function decodeArray(encoded: EncodedArray, field: string, source: string): Floats {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(encoded.base64);
  } catch {
    throw corrupt(source, `${field}.base64`, "is not valid base64");
  }
  const size = encoded.dtype === "float64" ? 8 : 4;
  if (bytes.length !== encoded.length * size) {
    throw corrupt(
      source,
      `${field}.base64`,
      `holds ${bytes.length} bytes, ${encoded.length} ${encoded.dtype} values need ${encoded.length * size}`,
    );
  }
  if (fnv1a(bytes) !== encoded.hash) {
    throw corrupt(source, `${field}.hash`, "does not match the data: the file is damaged");
  }
  const view = new DataView(bytes.buffer);
  if (encoded.dtype === "float64") {
    const out = new Float64Array(encoded.length);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
    return out;
  }
  const out = new Float32Array(encoded.length);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// JSON schema of the file.

const NON_FINITE = {
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
  NaN: Number.NaN,
};
const number = z.union([
  z.number(),
  z.enum(["Infinity", "-Infinity", "NaN"]).transform((text) => NON_FINITE[text]),
]);
const count = z.number().int().min(0);
const region = z.strictObject({ start: count, end: count });
const arraySchema = z.strictObject({
  dtype: z.enum(["float32", "float64"]),
  length: count,
  hash: z.string().regex(/^[0-9a-f]{8}$/),
  base64: z.string(),
});

const fileSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_VERSION),
  kind: z.enum(["last", "best"]),
  savedAt: z.string(),
  epochsCompleted: count,
  settings: z.unknown(),
  data: z.strictObject({
    parts: z.array(
      z.strictObject({
        name: z.string(),
        sampleRate: z.number().positive(),
        channels: z.number().int().min(1),
        frames: count,
        train: z.array(region),
        validation: z.array(region),
        hash: z.string().regex(/^[0-9a-f]{8}$/),
      }),
    ),
  }),
  model: z.strictObject({
    config: z.looseObject({ architecture: z.string() }),
    floatType: z.enum(["float32", "float64"]),
    parameters: arraySchema,
  }),
  optimizer: z.strictObject({ step: count, m: arraySchema, v: arraySchema }),
  schedule: z.strictObject({
    learningRate: number,
    epoch: count,
    best: number,
    badEpochs: count,
    scale: number,
  }),
  best: z
    .strictObject({ epoch: z.number().int().min(1), esr: number, loss: number, parameters: arraySchema })
    .nullable(),
  epochsWithoutImprovement: count,
  divergences: count,
  initialValidation: z.strictObject({ esr: number, loss: number }).nullable(),
  history: z.array(
    z.strictObject({
      epoch: z.number().int().min(1),
      trainLoss: number,
      validationEsr: number,
      validationLoss: number,
      learningRate: number,
      seconds: number,
      divergences: count,
    }),
  ),
  seconds: number,
});

function corrupt(source: string, field: string, message: string): CheckpointError {
  return new CheckpointError("checkpoint/invalid", `${source}: ${field}: ${message}`);
}

/** The JSON text of a checkpoint (pretty-printed; float arrays as base64 lines). */
export function checkpointToJson(checkpoint: Checkpoint): string {
  const c = checkpoint;
  // Fields in a fixed order, whatever order the object was built in.
  const file = {
    format: c.format,
    version: c.version,
    kind: c.kind,
    savedAt: c.savedAt,
    epochsCompleted: c.epochsCompleted,
    settings: c.settings,
    data: c.data,
    model: {
      config: c.model.config,
      floatType: c.model.floatType,
      parameters: encodeArray(c.model.parameters),
    },
    optimizer: { step: c.optimizer.step, m: encodeArray(c.optimizer.m), v: encodeArray(c.optimizer.v) },
    schedule: c.schedule,
    best: c.best && {
      epoch: c.best.epoch,
      esr: c.best.esr,
      loss: c.best.loss,
      parameters: encodeArray(c.best.parameters),
    },
    epochsWithoutImprovement: c.epochsWithoutImprovement,
    divergences: c.divergences,
    initialValidation: c.initialValidation,
    history: c.history,
    seconds: c.seconds,
  };
  const replacer = (_key: string, value: unknown): unknown =>
    typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
  return `${JSON.stringify(file, replacer, 2)}\n`;
}

/** UTF-8 bytes of `checkpointToJson`. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  return new TextEncoder().encode(checkpointToJson(checkpoint));
}

/**
 * Parses and validates a checkpoint. Errors are CheckpointErrors whose message starts with `source` (a
 * file name) and names the field: "run/checkpoint-last.json: optimizer.m.hash: does not match the data".
 */
export function checkpointFromJson(text: string, source = "checkpoint"): Checkpoint {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(
      "checkpoint/invalid",
      `${source}: is not valid JSON (${error instanceof Error ? error.message : String(error)}): the file is damaged or not a checkpoint`,
      { cause: error },
    );
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (format !== CHECKPOINT_FORMAT) {
    throw corrupt(source, "format", `expected "${CHECKPOINT_FORMAT}", got ${JSON.stringify(format)}`);
  }
  const version = (json as { version?: unknown }).version;
  if (version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      "checkpoint/version",
      `${source}: version: this deepsp reads checkpoint version ${CHECKPOINT_VERSION}, the file has ${JSON.stringify(version)}`,
    );
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw corrupt(source, formatPath(issue.path) || "(file)", issue.message.replace(/^Invalid input: /, ""));
  }
  const file = parsed.data;
  const settingsResult = trainSettingsSchema.safeParse(file.settings);
  if (!settingsResult.success) {
    const issue = settingsResult.error.issues[0]!;
    throw corrupt(
      source,
      `settings.${formatPath(issue.path)}`,
      issue.message.replace(/^Invalid input: /, ""),
    );
  }
  const parameters = decodeArray(file.model.parameters, "model.parameters", source);
  if (file.model.parameters.dtype !== file.model.floatType) {
    throw corrupt(
      source,
      "model.parameters.dtype",
      `is ${file.model.parameters.dtype}, model.floatType says ${file.model.floatType}`,
    );
  }
  const sameLength = (field: string, values: Floats): void => {
    if (values.length !== parameters.length) {
      throw corrupt(
        source,
        field,
        `has ${values.length} values, the model has ${parameters.length} parameters`,
      );
    }
  };
  const m = decodeArray(file.optimizer.m, "optimizer.m", source);
  const v = decodeArray(file.optimizer.v, "optimizer.v", source);
  sameLength("optimizer.m", m);
  sameLength("optimizer.v", v);
  let best: Checkpoint["best"] = null;
  if (file.best) {
    const bestParameters = decodeArray(file.best.parameters, "best.parameters", source);
    sameLength("best.parameters", bestParameters);
    if (file.best.epoch > file.epochsCompleted) {
      throw corrupt(
        source,
        "best.epoch",
        `is ${file.best.epoch}, after the ${file.epochsCompleted} completed epochs`,
      );
    }
    best = { epoch: file.best.epoch, esr: file.best.esr, loss: file.best.loss, parameters: bestParameters };
  } else if (file.epochsCompleted > 0) {
    throw corrupt(source, "best", `is missing after ${file.epochsCompleted} completed epochs`);
  }
  if (file.history.length !== file.epochsCompleted) {
    throw corrupt(
      source,
      "history",
      `has ${file.history.length} epochs, epochsCompleted says ${file.epochsCompleted}`,
    );
  }
  file.history.forEach((record, i) => {
    if (record.epoch !== i + 1)
      throw corrupt(source, `history[${i}].epoch`, `expected ${i + 1}, got ${record.epoch}`);
  });
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    kind: file.kind,
    savedAt: file.savedAt,
    epochsCompleted: file.epochsCompleted,
    settings: settingsResult.data,
    data: file.data,
    model: { config: file.model.config, floatType: file.model.floatType, parameters },
    optimizer: { step: file.optimizer.step, m, v },
    schedule: file.schedule,
    best,
    epochsWithoutImprovement: file.epochsWithoutImprovement,
    divergences: file.divergences,
    initialValidation: file.initialValidation,
    history: file.history,
    seconds: file.seconds,
  };
}

/** Decodes UTF-8 bytes and validates them (see checkpointFromJson). */
export function decodeCheckpoint(bytes: Uint8Array, source = "checkpoint"): Checkpoint {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new CheckpointError("checkpoint/invalid", `${source}: is not UTF-8 text: the file is damaged`, {
      cause: error,
    });
  }
  return checkpointFromJson(text, source);
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path)
    text += typeof key === "number" ? `[${key}]` : text ? `.${String(key)}` : String(key);
  return text;
}

// ---------------------------------------------------------------------------------------------------------
// Resume compatibility.

/**
 * The first place where two JSON-like values differ, as a dotted path ("loss.terms[0].weight"), or null
 * when they are equal. Typed arrays compare by length only (parameters are checked elsewhere).
 */
export function firstDifference(
  a: unknown,
  b: unknown,
  path = "",
): { path: string; a: unknown; b: unknown } | null {
  if (Object.is(a, b)) return null;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return { path, a, b };
  if (Array.isArray(a) !== Array.isArray(b)) return { path, a, b };
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return { path: `${path}.length`, a: a.length, b: b.length };
    for (let i = 0; i < a.length; i++) {
      const difference = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (difference) return difference;
    }
    return null;
  }
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(recordA), ...Object.keys(recordB)]);
  for (const key of keys) {
    const difference = firstDifference(recordA[key], recordB[key], path ? `${path}.${key}` : key);
    if (difference) return difference;
  }
  return null;
}

/**
 * Throws an OptionError naming the first field where a run's settings, model or data differ from the
 * checkpoint it resumes. `epochs` may differ (a finished run can be extended).
 */
export function checkResumable(
  checkpoint: Checkpoint,
  run: {
    settings: TrainSettings;
    modelConfig: Record<string, unknown>;
    floatType: FloatType;
    parameterCount: number;
    data: DataFingerprint;
  },
): void {
  const settingsDifference = firstDifference(
    { ...checkpoint.settings, epochs: 0 },
    { ...run.settings, epochs: 0 },
  );
  if (settingsDifference) {
    throw new OptionError(
      "train/resume-mismatch",
      `cannot resume: setting ${settingsDifference.path} is ${show(settingsDifference.b)} but the checkpoint was made with ` +
        `${show(settingsDifference.a)}; resume with the checkpoint's settings (only epochs may change) or start a new run`,
    );
  }
  const modelDifference = firstDifference(checkpoint.model.config, run.modelConfig);
  if (modelDifference) {
    throw new OptionError(
      "train/resume-mismatch",
      `cannot resume: model config ${modelDifference.path || "(model)"} is ${show(modelDifference.b)} but the checkpoint's model has ` +
        `${show(modelDifference.a)}; build the model from checkpoint.model.config`,
    );
  }
  if (
    checkpoint.model.floatType !== run.floatType ||
    checkpoint.model.parameters.length !== run.parameterCount
  ) {
    throw new OptionError(
      "train/resume-mismatch",
      `cannot resume: the model has ${run.parameterCount} ${run.floatType} parameters, the checkpoint ` +
        `${checkpoint.model.parameters.length} ${checkpoint.model.floatType}`,
    );
  }
  // Names may change (a file moved); the audio, its rate, length and split may not.
  const unnamed = (data: DataFingerprint) => ({ parts: data.parts.map((part) => ({ ...part, name: "" })) });
  const dataDifference = firstDifference(unnamed(checkpoint.data), unnamed(run.data), "data");
  if (dataDifference) {
    const index = /^data\.parts\[(\d+)\]/.exec(dataDifference.path)?.[1];
    const name =
      index === undefined
        ? ""
        : ` (part "${run.data.parts[Number(index)]?.name ?? checkpoint.data.parts[Number(index)]?.name}")`;
    const what = dataDifference.path.endsWith(".hash")
      ? "the audio differs"
      : `${show(dataDifference.b)} instead of ${show(dataDifference.a)}`;
    throw new OptionError(
      "train/resume-mismatch",
      `cannot resume: the training data differs from the checkpoint's at ${dataDifference.path}${name}: ${what}; ` +
        "resume with the same files and split, or start a new run",
    );
  }
}

function show(value: unknown): string {
  return value === undefined ? "absent" : JSON.stringify(value);
}
