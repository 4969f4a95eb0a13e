import type { Audio } from "../audio/audio.ts";
import type { Pair } from "../data/pair.ts";
import { splitFrames } from "../data/split.ts";
import type { SplitPair } from "../data/windows.ts";
import { compare } from "../eval/metrics.ts";
import type { Comparison } from "../eval/types.ts";
import type { Model } from "../nn/models/model.ts";
import { findPreset } from "../nn/models/presets.ts";
import { createModel } from "../nn/models/registry.ts";
import { createStreamProcessor, processWhole } from "../runtime/index.ts";
import type { LossConfig } from "../train/losses/index.ts";
import type { ScheduleConfig } from "../train/schedule.ts";
import { type TrainEvent, type TrainResult, train } from "../train/trainer.ts";
import type { TrainingOverrides } from "./config.ts";

/**
 * One cell of the study, platform-neutral (the node runner and bench/study/lowpass.ts call it): train a
 * preset with its recipe under a budget of epochs and wall-clock seconds, then run the trained model over
 * the test audio with the streaming runtime (block 64, the way it would run live), score it against the
 * target and against passing the input through (`compare`), and time it (real-time factor).
 */

/** Fraction of each training item held out for validation: a chunk from its middle. */
export interface ValidationChunk {
  start: number;
  end: number;
}

/**
 * One training item with a held-out chunk from its middle ([start, end) as fractions of its length): the
 * rest trains. Not the end: at the end of the study's sweeps the low-passed target is nearly silent, where
 * ESR means little.
 */
export function middleSplit(name: string, pair: Pair, chunk: ValidationChunk): SplitPair {
  const frames = pair.input.channels[0]!.length;
  const rate = pair.input.sampleRate;
  const start = Math.round(chunk.start * frames);
  const end = Math.round(chunk.end * frames);
  const seconds = (frame: number) => frame / rate;
  const train: [number, number][] = [];
  if (start > 0) train.push([0, seconds(start)]);
  if (end < frames) train.push([seconds(end), seconds(frames)]);
  return {
    name,
    pair,
    split: splitFrames(frames, rate, {
      kind: "ranges",
      train,
      validation: [[seconds(start), seconds(end)]],
    }),
  };
}

/** One epoch's record, compact: cumulative training seconds at its end. */
export interface HistoryPoint {
  epoch: number;
  seconds: number;
  validationEsr: number;
}

/** What a training did, as recorded in every cell of it. */
export interface TrainingSummary {
  preset: string;
  architecture: string;
  parameters: number;
  receptiveField: number;
  /** Epochs completed; 0 when the budget ended inside the first (the model is then untrained). */
  epochs: number;
  bestEpoch: number | null;
  /** Best validation ESR (the untrained model's when no epoch completed). */
  validationEsr: number | null;
  initialValidationEsr: number | null;
  /** Wall-clock seconds of the training call (validation included). */
  trainingSeconds: number;
  stopReason: TrainResult["reason"];
  /** Validation ESR after each epoch, with the cumulative seconds. */
  history: HistoryPoint[];
  /** The recipe used: the preset's, with the config's overrides. */
  settings: {
    learningRate: number;
    batchSize: number;
    windowLength: number;
    overlap: number;
    burnIn: number;
    truncate: number | null;
    loss: LossConfig;
    schedule: ScheduleConfig;
    epochs: number;
    seconds: number;
    patience: number | null;
  };
}

export interface TrainCellOptions {
  /** A preset name (deepsp presets). */
  preset: string;
  overrides?: TrainingOverrides;
  /** Training items, each with its own validation chunk (see middleSplit). */
  parts: readonly SplitPair[];
  seed: number;
  /** Budget: whichever ends first. */
  epochs: number;
  seconds: number;
  patience?: number | null;
  /** Stops training early from outside (e.g. the process is shutting down). */
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
}

/** Trains a fresh model of the preset; the model ends holding its best parameters (by validation ESR). */
export async function trainCell(
  options: TrainCellOptions,
): Promise<{ model: Model; summary: TrainingSummary }> {
  const preset = findPreset(options.preset);
  const overrides = options.overrides ?? {};
  const model = createModel(preset.model, { seed: options.seed });
  const recipe = preset.training;
  const settings: TrainingSummary["settings"] = {
    learningRate: overrides.learningRate ?? recipe.learningRate,
    batchSize: overrides.batchSize ?? recipe.batchSize,
    windowLength: overrides.windowLength ?? recipe.windowLength,
    overlap: overrides.overlap ?? 1,
    burnIn: overrides.burnIn ?? recipe.burnIn ?? 0,
    truncate: overrides.truncate ?? recipe.truncate ?? null,
    loss: (overrides.loss as LossConfig | undefined) ?? recipe.loss,
    schedule: (overrides.schedule as ScheduleConfig | undefined) ?? recipe.schedule,
    epochs: options.epochs,
    seconds: options.seconds,
    patience: options.patience ?? null,
  };
  // The wall-clock budget: a timer, and a clock check on every batch event (the timer alone can only fire
  // when the trainer yields, one batch late).
  const stop = new AbortController();
  const clock = globalThis.performance ?? Date;
  const deadline = clock.now() + options.seconds * 1000;
  const timer = setTimeout(() => stop.abort(), options.seconds * 1000);
  const forward = () => stop.abort();
  options.signal?.addEventListener("abort", forward);
  if (options.signal?.aborted) stop.abort();
  let result: TrainResult;
  try {
    result = await train({
      model,
      parts: options.parts,
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      learningRate: settings.learningRate,
      schedule: settings.schedule,
      loss: settings.loss,
      windowLength: settings.windowLength,
      overlap: settings.overlap,
      stereo: "split",
      burnIn: settings.burnIn,
      truncate: settings.truncate,
      clipNorm: overrides.clipNorm ?? null,
      patience: settings.patience,
      seed: options.seed,
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === "batch" && clock.now() >= deadline) stop.abort();
        options.onEvent?.(event);
      },
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", forward);
  }
  let elapsed = 0;
  const history = result.history.map((record) => {
    elapsed += record.seconds;
    return { epoch: record.epoch, seconds: elapsed, validationEsr: record.validationEsr };
  });
  return {
    model,
    summary: {
      preset: preset.name,
      architecture: model.architecture,
      parameters: model.parameters.count,
      receptiveField: model.receptiveField,
      epochs: result.epochsRun,
      bestEpoch: result.bestEpoch,
      validationEsr: result.bestEsr ?? result.initialValidation?.esr ?? null,
      initialValidationEsr: result.initialValidation?.esr ?? null,
      trainingSeconds: result.seconds,
      stopReason: result.reason,
      history,
      settings,
    },
  };
}

/**
 * Training seconds until the validation ESR first fell below `qualityEsr` (0 when the untrained model was
 * already below it), or null when it never did.
 */
export function timeToQuality(
  history: readonly HistoryPoint[],
  initialValidationEsr: number | null,
  qualityEsr: number,
): number | null {
  if (initialValidationEsr !== null && initialValidationEsr < qualityEsr) return 0;
  return history.find((point) => point.validationEsr < qualityEsr)?.seconds ?? null;
}

/** Block size of the streaming test run, frames (the README's real-time figures use 64). */
export const TEST_BLOCK_SIZE = 64;

export interface TestScore {
  comparison: Comparison;
  /** Seconds of compute per second of (mono) audio in the streaming test run; below 1 is faster than real time. */
  realTimeFactor: number;
  seconds: number;
}

/**
 * Runs the model over a test pair with the streaming runtime (from silence / zero state, block 64, each
 * channel through its own state for a mono model) and scores the output with `compare` against the
 * target, alongside the input passed through unchanged.
 */
export function testCell(model: Model, pair: Pair, options: { blockSize?: number } = {}): TestScore {
  const blockSize = options.blockSize ?? TEST_BLOCK_SIZE;
  const { input, target } = pair;
  const channels = input.channels.length;
  const processor = createStreamProcessor(model, { audioChannels: channels });
  processor.prepare(input.sampleRate, blockSize); // warms the code up before timing
  const clock = globalThis.performance ?? Date;
  const started = clock.now();
  const output = processWhole(processor, input.channels, { blockSize, sampleRate: input.sampleRate });
  const elapsed = (clock.now() - started) / 1000;
  const frames = input.channels[0]!.length;
  const seconds = frames / input.sampleRate;
  return {
    comparison: compare(output, target.channels, input.channels, input.sampleRate),
    realTimeFactor: elapsed / (seconds * channels),
    seconds,
  };
}

/** The middle `seconds` of some audio (all of it when shorter): quick runs cut long recordings to this. */
export function middleSeconds(audio: Audio, seconds: number): Audio {
  const frames = audio.channels[0]?.length ?? 0;
  const keep = Math.min(frames, Math.max(1, Math.round(seconds * audio.sampleRate)));
  const start = Math.floor((frames - keep) / 2);
  return {
    sampleRate: audio.sampleRate,
    channels: audio.channels.map((channel) => channel.subarray(start, start + keep)),
  };
}
