import type { Audio } from "../../audio/audio.ts";
import type { Role } from "../../data/split.ts";
import type { Comparison } from "../types.ts";

/**
 * What the report shows, as plain data: `deepsp train` / `deepsp report` fill it from a run folder
 * (src/node/report.ts buildRunReport), `deepsp eval --report` from a model and a pair (no curves then).
 * Audio is one Float32Array per channel; every field but `title`, `card` and `evaluation` is optional,
 * and every field of the card is optional (a section or row with nothing to show is left out).
 */
export interface ReportData {
  /** The page's heading and <title>. */
  title: string;
  /** When the report was made, ISO 8601 (default: now). */
  createdAt?: string;
  card: ModelCard;
  evaluation: ReportEvaluation;
  /** Per-epoch training history (from train-log.json). */
  training?: TrainingCurves;
  /** Renders of the scored audio during training (`deepsp train --render-every k`). */
  renders?: ReportRender[];
  /** Extra lines shown under the title (plain text). */
  notes?: string[];
}

/** The model card: what the model is, what it was trained on and how. */
export interface ModelCard {
  name?: string;
  /** The model file, as given. */
  modelFile?: string;
  architecture?: string;
  /** The model config (model.toConfig()). */
  config?: Record<string, unknown>;
  preset?: string;
  parameters?: number;
  /** Samples of input each output sample depends on (1 for recurrent models: their memory is the state). */
  receptiveField?: number;
  /** Hz. */
  sampleRate?: number;
  channels?: number;
  trainingSeconds?: number;
  /** Epochs run and the epoch whose weights the model holds (best validation ESR). */
  epochs?: number;
  bestEpoch?: number | null;
  bestValidationEsr?: number | null;
  /** Why training ended: "completed", "early-stop" or "stopped". */
  stopReason?: string;
  learningRate?: number;
  /** The loss config (src/train/losses LossConfig). */
  loss?: unknown;
  seed?: number;
  /** Samples of latency removed from the target when the pair was aligned. */
  latencyRemovedSamples?: number;
  /** Provenance of the training pair: files, and the effect chain and material when deepsp made it. */
  data?: { files?: string[]; effect?: string; material?: string };
  /** Each pair used in training and how it was split (regions in seconds). */
  splits?: ReportSplit[];
  createdAt?: string;
  deepspVersion?: string;
}

export interface ReportSplit {
  /** "pair", "validation" or "test" (a separate pair). */
  name: string;
  files?: string[];
  seconds: number;
  /** [startSeconds, endSeconds) per role. */
  regions: Partial<Record<Role, [number, number][]>>;
}

/** What was scored and how it compares. */
export interface ReportEvaluation {
  /** What the audio is, in words ("the test region: pair 8.50-10.00 s"). */
  description: string;
  comparison: Comparison;
  /** The scored audio: the model's input, the target and the model's output (same rate and length). */
  input: Audio;
  target: Audio;
  output: Audio;
  /** ESR of the same audio as recorded elsewhere (train-log.json's test ESR), shown next to ours. */
  recordedEsr?: { label: string; value: number };
}

/** One epoch of training history (src/train/checkpoint.ts EpochRecord, what train-log.json holds). */
export interface CurvePoint {
  epoch: number;
  trainLoss: number;
  validationEsr: number;
  validationLoss?: number;
  learningRate?: number;
  seconds?: number;
}

export interface TrainingCurves {
  history: CurvePoint[];
  /** The untrained model's validation (epoch 0). */
  initialValidation?: { esr: number; loss: number } | null;
  bestEpoch?: number | null;
}

export interface ReportRender {
  epoch: number;
  /** ESR of this render against the target. */
  esr: number;
  audio: Audio;
}
