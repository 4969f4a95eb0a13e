import type { PairReport } from "../../src/data/pair.ts";
import type { TrainEvent } from "../../src/train/trainer.ts";

/*
 * Messages between the page and the training worker (web/train-worker.ts). Audio travels as Float32Array
 * channels (copied or transferred); the model travels as its deepsp model file text, the same JSON a
 * `deepsp train` writes, so the page, the worklet and the export all read one format.
 */

/** Check, align and split a pair; the worker keeps it for training. */
export interface CheckRequest {
  type: "check";
  name: string;
  /** File names, for messages. */
  inputName: string;
  targetName: string;
  sampleRate: number;
  targetSampleRate: number;
  input: Float32Array[];
  target: Float32Array[];
}

export interface TrainRequest {
  type: "train";
  preset: string;
  epochs: number;
  /** Target samples per training window (the preset's when null). */
  windowLength: number | null;
  burnIn: number | null;
  overlap: number;
  seed: number;
}

/** Train more epochs from the last checkpoint of the stopped or finished run. */
export interface ResumeRequest {
  type: "resume";
  epochs: number;
}

/** Generate built-in material, render it through an effect chain (the library's built-in effects), check it. */
export interface RenderRequest {
  type: "render";
  material: string;
  seconds: number;
  sampleRate: number;
  chain: string;
}

export type ToTrainer = CheckRequest | RenderRequest | TrainRequest | ResumeRequest | { type: "stop" };

export interface PairSummary {
  name: string;
  report: PairReport;
  /** Min and max per column (2 x columns values, first channel, after alignment) for the overview. */
  overview: { dry: Float32Array; wet: Float32Array };
  /** Seconds of each role. */
  trainSeconds: number;
  validationSeconds: number;
  testSeconds: number;
}

export interface TrainedModel {
  /** The deepsp model file (JSON text). */
  text: string;
  preset: string;
  bestEpoch: number;
  validationEsr: number;
  /** ESR on the held-out test region (as it streams: what the worklet plays). */
  testEsr: number;
  /** The test region, mono (the first channel): dry input, target, model output, aligned sample for sample. */
  test: { input: Float32Array; target: Float32Array; output: Float32Array; sampleRate: number };
  reason: "completed" | "early-stop" | "stopped";
}

export type FromTrainer =
  | { type: "checked"; summary: PairSummary }
  | { type: "event"; event: TrainEvent }
  | { type: "trained"; model: TrainedModel }
  | { type: "error"; message: string };
