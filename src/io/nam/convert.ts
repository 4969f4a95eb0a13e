/**
 * deepsp model files <-> .nam files (Neural Amp Modeler), platform-neutral: the caller reads and writes.
 *
 * What a .nam 0.5 file (what deepsp writes, and what every released NAM plugin loads) can hold, per deepsp
 * architecture:
 *   linear   -> "Linear" (./linear.ts: reversed taps)
 *   lstm     -> "LSTM" (./lstm.ts: joined matrix, summed biases, stored initial state), only without input
 *               skip: NAM's LSTM (NAM/lstm.cpp) outputs head(h) alone, and an identity path cannot be folded
 *               into an LSTM's weights
 *   wavenet  -> "WaveNet" (./wavenet-a1.ts: head_scale as the last weight)
 *   tcn      -> "WaveNet" with one layer array (./tcn.ts: the input bias folded into the conv biases)
 *   gru, mlp, seedconv -> none: NAM core (NAM/get_dsp.cpp) has no GRU, fully connected or transposed-conv model
 * and only mono models (a 0.5 file has no channel count). Reading, the inverse: Linear, LSTM and classic
 * WaveNet files become deepsp models; ConvNet, containers, A2 WaveNets and multichannel or parametric files
 * are refused with code "nam/unsupported" (NAM's own player plays them).
 *
 * Metadata: deepsp's name, loudnessDb and metrics.validationEsr / testEsr go to NAM's `name`, `loudness` and
 * `training.validation_esr` (what NAM's trainer writes, nam/train/metadata.py) / `training.test_esr` (deepsp's
 * addition); createdAt goes to `date` (its UTC fields; NAM's trainer writes local time without a zone). A
 * file read from .nam keeps the whole NAM metadata object as `metadata.nam`, and writing starts from it, so
 * fields deepsp does not use (modeled_by, gear_type, input_level_dbu...) survive a round trip.
 */
import { DeepspError } from "../../core/errors.ts";
import type { Model } from "../../nn/models/model.ts";
import { createModel, parseModelConfig, type WavenetModelConfig } from "../../nn/models/registry.ts";
import { DEEPSP_VERSION, type ModelFile, type ModelFileInput, type ModelMetadata } from "../model-file.ts";
import { NAM_WRITE_VERSION, type NamArchitecture, NamError, type NamFile, type NamMetadata } from "./file.ts";
import { linearModelFromNam, type NamLinearConfig, namLinearFromModel } from "./linear.ts";
import { lstmModelFromNam, type NamLstmConfig, namLstmFromModel } from "./lstm.ts";
import { wavenetFromTcn } from "./tcn.ts";
import {
  modelConfigFromNamA1,
  type NamA1WavenetConfig,
  namA1ConfigFromModel,
  namA1WeightsFromParameters,
  setParametersFromNamA1Weights,
} from "./wavenet-a1.ts";

/** A .nam file as written, in NAM's key order (JSON.stringify it). */
export interface NamDocument {
  version: string;
  metadata: NamMetadata;
  architecture: NamArchitecture;
  config: NamLinearConfig | NamLstmConfig | NamA1WavenetConfig;
  weights: number[];
  /** Hz. */
  sample_rate: number;
}

/** NAM core's rate for a file without `sample_rate` (NAM/get_dsp.cpp). */
const NAM_DEFAULT_SAMPLE_RATE = 48000;

/**
 * A deepsp model (with its sample rate and metadata) as a .nam file. Throws NamError "nam/export", naming
 * `source` (the file being written) and what .nam cannot express.
 */
export function namFromModelFile(file: ModelFileInput, options: { source?: string } = {}): NamDocument {
  const source = options.source ?? "model";
  const refuse = (why: string): never => {
    throw new NamError("nam/export", `${source}: cannot write a .nam file: ${why}`);
  };
  const { model } = file;
  const config = parseModelConfig(model.toConfig());
  if (model.channels !== 1) {
    refuse(
      `the ${config.architecture} model has ${model.channels} channels; a .nam ${NAM_WRITE_VERSION} model is mono`,
    );
  }
  if ((file.latencySamples ?? 0) !== 0)
    refuse(`latencySamples is ${file.latencySamples}; a .nam file has no latency field`);
  let body: Pick<NamDocument, "architecture" | "config" | "weights">;
  switch (config.architecture) {
    case "linear":
      body = { architecture: "Linear", ...namLinearFromModel(model, config) };
      break;
    case "lstm":
      if (config.inputSkip) {
        refuse(
          "the lstm adds its input to its output (inputSkip: true) and NAM's LSTM has no input skip; train with inputSkip: false to export",
        );
      }
      body = { architecture: "LSTM", ...namLstmFromModel(model, config) };
      break;
    case "wavenet":
      body = withSource(source, () => namWavenet(model, config));
      break;
    case "tcn": {
      const wavenet = wavenetFromTcn(model, config);
      body = withSource(source, () => namWavenet(wavenet, wavenet.config));
      break;
    }
    case "gru":
      return refuse("NAM has no GRU (NAM core plays WaveNet, LSTM, Linear and ConvNet models)");
    case "mlp":
      return refuse("NAM has no fully connected (mlp) model");
    case "seedconv":
      return refuse("NAM has no transposed-convolution (seedconv) model");
  }
  return {
    version: NAM_WRITE_VERSION,
    metadata: namMetadataFrom(file.metadata ?? {}),
    ...body,
    sample_rate: file.sampleRate,
  };
}

function namWavenet(
  model: Model,
  config: WavenetModelConfig,
): Pick<NamDocument, "architecture" | "config" | "weights"> {
  return {
    architecture: "WaveNet",
    config: namA1ConfigFromModel(config),
    weights: namA1WeightsFromParameters(model.parameters, config),
  };
}

/**
 * A .nam file (parsed with parseNamFile) as a deepsp model file: the same outputs as NAM core up to float
 * rounding (an LSTM from zero state rather than its stored initial state: see ./lstm.ts). Throws NamError
 * naming the file and field: "nam/unsupported" for what only NAM's own player plays, "nam/config" or
 * "nam/weight-count" for a malformed file.
 */
export function modelFileFromNam(nam: NamFile): ModelFile {
  const { source } = nam;
  let model: Model;
  switch (nam.architecture) {
    case "Linear":
      model = linearModelFromNam(nam.config, nam.weights, source);
      break;
    case "LSTM":
      model = lstmModelFromNam(nam.config, nam.weights, source);
      break;
    case "WaveNet":
      model = withSource(source, () => {
        const config = modelConfigFromNamA1(nam.config, nam.weights);
        const wavenet = createModel(config);
        setParametersFromNamA1Weights(wavenet.parameters, config, nam.weights);
        return wavenet;
      });
      break;
    default:
      throw new NamError(
        "nam/unsupported",
        `${source}: architecture "${nam.architecture}" has no deepsp equivalent (deepsp imports Linear, LSTM and classic WaveNet models)`,
      );
  }
  return {
    model,
    sampleRate: nam.sampleRate ?? NAM_DEFAULT_SAMPLE_RATE,
    latencySamples: 0,
    metadata: metadataFromNam(nam.metadata),
  };
}

/** Runs a wavenet-a1 conversion, turning its errors into NamErrors (same code) that name `source`. */
function withSource<T>(source: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof DeepspError && !(error instanceof NamError))
      throw new NamError(error.code, `${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Metadata

interface NamDate {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function finiteOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function metadataFromNam(nam: NamMetadata): ModelMetadata {
  const metadata: ModelMetadata = {
    createdAt: createdAtFromNamDate(nam["date"]) ?? new Date().toISOString(),
    deepspVersion: DEEPSP_VERSION,
  };
  if (typeof nam.name === "string") metadata.name = nam.name;
  const loudness = finiteOrUndefined(nam.loudness);
  if (loudness !== undefined) metadata.loudnessDb = loudness;
  const training = isRecord(nam["training"]) ? nam["training"] : {};
  const validationEsr = finiteOrUndefined(training["validation_esr"]);
  const testEsr = finiteOrUndefined(training["test_esr"]);
  if (validationEsr !== undefined || testEsr !== undefined) {
    metadata.metrics = {
      ...(validationEsr !== undefined && { validationEsr }),
      ...(testEsr !== undefined && { testEsr }),
    };
  }
  if (Object.keys(nam).length > 0) metadata["nam"] = nam;
  return metadata;
}

function namMetadataFrom(metadata: NonNullable<ModelFileInput["metadata"]>): NamMetadata {
  const kept = isRecord(metadata["nam"]) ? metadata["nam"] : {};
  const result: NamMetadata = { ...kept, date: namDateFrom(metadata.createdAt) };
  if (metadata.name !== undefined) result.name = metadata.name;
  if (metadata.loudnessDb !== undefined) result.loudness = metadata.loudnessDb;
  const { validationEsr, testEsr } = metadata.metrics ?? {};
  if (validationEsr !== undefined || testEsr !== undefined) {
    result["training"] = {
      ...(isRecord(kept["training"]) ? kept["training"] : {}),
      ...(validationEsr !== undefined && { validation_esr: validationEsr }),
      ...(testEsr !== undefined && { test_esr: testEsr }),
    };
  }
  return result;
}

/** NAM's date fields, read as UTC, as ISO 8601; undefined unless all six are whole numbers. */
function createdAtFromNamDate(date: unknown): string | undefined {
  if (!isRecord(date)) return undefined;
  const fields = ["year", "month", "day", "hour", "minute", "second"].map((key) => date[key]);
  if (!fields.every((value) => typeof value === "number" && Number.isInteger(value))) return undefined;
  const [year, month, day, hour, minute, second] = fields as number[];
  const time = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}

/** An ISO 8601 time (default: now) as NAM's date fields, in UTC. */
function namDateFrom(createdAt: string | undefined): NamDate {
  const parsed = createdAt === undefined ? Number.NaN : Date.parse(createdAt);
  const date = new Date(Number.isFinite(parsed) ? parsed : Date.now());
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
  };
}
