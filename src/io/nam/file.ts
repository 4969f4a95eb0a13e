import { DeepspError } from "../../core/errors.ts";

/**
 * The .nam container (Neural Amp Modeler model file, versions 0.5.x-0.7.x), platform-neutral: the caller
 * reads the file. Facts from NAM core's `get_dsp` (NAM/get_dsp.cpp) and nam/models/base.py `export`:
 *   { "version": "0.5.4", "architecture": "WaveNet" | "LSTM" | "Linear" | "ConvNet" | "SlimmableContainer",
 *     "config": {...}, "weights": [numbers], "sample_rate": 48000 (optional; absent = unknown, 48 kHz assumed by
 *     the core), "metadata": { "loudness", "gain", "input_level_dbu", "output_level_dbu", "name", ... } }
 * A SlimmableContainer's config holds whole .nam objects (`submodels[i].model`) with an empty top-level
 * `weights`; a WaveNet's `condition_dsp` is one too. This module checks the envelope only: each architecture's
 * reader checks its config and weight count.
 */

/** A .nam file or an error in one: `nam/<what>`, the message names the file and the field. */
export class NamError extends DeepspError {}

/** The .nam versions this reader knows (NAM core 0.5.5 loads 0.5.x-0.7.x). */
export const NAM_VERSION_MIN = [0, 5, 0] as const;
export const NAM_VERSION_MAX_MINOR = 7;
/** What deepsp writes. 0.5.4 is what NAM's trainer writes for A1 models, and every NAM core since loads it. */
export const NAM_WRITE_VERSION = "0.5.4";

export const NAM_ARCHITECTURES = ["WaveNet", "LSTM", "Linear", "ConvNet", "SlimmableContainer"] as const;
export type NamArchitecture = (typeof NAM_ARCHITECTURES)[number];

/** Metadata fields deepsp reads (others are kept as they are). */
export interface NamMetadata {
  name?: string;
  /** Loudness of the model's output on NAM's standard input, dB. */
  loudness?: number;
  gain?: number;
  /** Calibration: the input level (dBu) that maps to digital full scale, and the output's. */
  input_level_dbu?: number;
  output_level_dbu?: number;
  [key: string]: unknown;
}

/** One parsed .nam object (the file, or a nested submodel / condition DSP). */
export interface NamFile {
  version: string;
  architecture: NamArchitecture;
  config: Record<string, unknown>;
  weights: number[];
  /** Hz, or null when the file does not say (the NAM core then assumes 48000). */
  sampleRate: number | null;
  metadata: NamMetadata;
  /** Where it came from, for messages: the file name, then ".config.submodels[1].model" etc. */
  source: string;
}

/** Parses a .nam file's text (or an already-parsed object) and checks its envelope. */
export function parseNamFile(input: string | unknown, source = ".nam file"): NamFile {
  let value: unknown = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new NamError("nam/json", `${source}: not JSON: ${(error as Error).message}`);
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new NamError(
      "nam/envelope",
      `${source}: expected a JSON object with "architecture", "config" and "weights"`,
    );
  }
  const top = value as Record<string, unknown>;
  const version = top["version"];
  if (typeof version !== "string") {
    throw new NamError(
      "nam/version",
      `${source}: "version" must be a string such as "0.5.4", got ${JSON.stringify(version)}`,
    );
  }
  checkVersion(version, source);
  const architecture = top["architecture"];
  if (typeof architecture !== "string" || !(NAM_ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new NamError(
      "nam/architecture",
      `${source}: unsupported "architecture" ${JSON.stringify(architecture)} (supported: ${NAM_ARCHITECTURES.join(", ")})`,
    );
  }
  const config = top["config"];
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new NamError("nam/config", `${source}: "config" must be an object, got ${JSON.stringify(config)}`);
  }
  const weights = top["weights"] ?? [];
  if (!Array.isArray(weights)) {
    throw new NamError("nam/weights", `${source}: "weights" must be an array of numbers`);
  }
  for (let i = 0; i < weights.length; i++) {
    if (typeof weights[i] !== "number" || !Number.isFinite(weights[i])) {
      throw new NamError(
        "nam/weights",
        `${source}: weights[${i}] must be a finite number, got ${JSON.stringify(weights[i])}`,
      );
    }
  }
  const rate = top["sample_rate"];
  if (
    rate !== undefined &&
    rate !== null &&
    !(typeof rate === "number" && Number.isFinite(rate) && rate > 0)
  ) {
    throw new NamError(
      "nam/sample-rate",
      `${source}: "sample_rate" must be a positive number, got ${JSON.stringify(rate)}`,
    );
  }
  const metadata = top["metadata"] ?? {};
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new NamError("nam/metadata", `${source}: "metadata" must be an object`);
  }
  return {
    version,
    architecture: architecture as NamArchitecture,
    config: config as Record<string, unknown>,
    weights: weights as number[],
    sampleRate: typeof rate === "number" ? rate : null,
    metadata: metadata as NamMetadata,
    source,
  };
}

function checkVersion(version: string, source: string): void {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  const [major, minor] = match ? [Number(match[1]), Number(match[2])] : [Number.NaN, Number.NaN];
  if (!match || major !== NAM_VERSION_MIN[0] || minor < NAM_VERSION_MIN[1] || minor > NAM_VERSION_MAX_MINOR) {
    throw new NamError(
      "nam/version",
      `${source}: .nam version ${JSON.stringify(version)} is not supported (supported: 0.5.x to 0.${NAM_VERSION_MAX_MINOR}.x)`,
    );
  }
}

/**
 * Reads weights in order and checks the count at the end: every architecture reader takes its tensors from
 * one of these, then calls `finish()`, so a file with too few or too many weights is an error naming both
 * counts (as NAM core's `get_dsp` checks).
 */
export class WeightReader {
  private position = 0;

  constructor(
    private readonly weights: readonly number[],
    private readonly source: string,
  ) {}

  /** The next `count` weights as a new Float32Array. */
  take(count: number, what: string): Float32Array {
    if (this.position + count > this.weights.length) {
      throw new NamError(
        "nam/weight-count",
        `${this.source}: too few weights: ${what} needs weights ${this.position}..${this.position + count - 1}, the file has ${this.weights.length}`,
      );
    }
    const out = Float32Array.from(this.weights.slice(this.position, this.position + count));
    this.position += count;
    return out;
  }

  /** The next weight, as the file's double. */
  next(what: string): number {
    if (this.position >= this.weights.length) {
      throw new NamError(
        "nam/weight-count",
        `${this.source}: too few weights: ${what} needs weight ${this.position}, the file has ${this.weights.length}`,
      );
    }
    return this.weights[this.position++]!;
  }

  get consumed(): number {
    return this.position;
  }

  /** Throws unless every weight was read. */
  finish(): void {
    if (this.position !== this.weights.length) {
      throw new NamError(
        "nam/weight-count",
        `${this.source}: the config implies ${this.position} weights, the file has ${this.weights.length}`,
      );
    }
  }
}
