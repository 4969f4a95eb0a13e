import { DeepspError, OptionError } from "../core/errors.ts";
import type { Pair } from "../data/pair.ts";
import type { Region } from "../data/split.ts";
import type { Floats } from "../nn/kernels/types.ts";
import type { Model } from "../nn/models/model.ts";
import { createLoss, type Loss, type LossConfig } from "./losses/index.ts";

/**
 * Runs a model over long regions of a pair in chunks, so memory stays bounded by the chunk length, and
 * measures it against the target:
 *   ESR = sum (y - yhat)^2 / sum y^2 (error-to-signal ratio, Wright & Välimäki 2019), over all channels;
 *   MSE = sum (y - yhat)^2 / samples.
 * Convolutional models: consecutive chunks overlap by receptiveField - 1 input frames, so the output is
 * exactly the region minus its first receptiveField - 1 frames, whatever the chunk length. Recurrent
 * models: the state is reset at each region and carried from chunk to chunk, so the output equals one
 * pass over the region; the first `burnIn` frames are run but left out of the metrics.
 * A pair with more channels than the model (a mono model on stereo audio, "split" training) runs each
 * channel as its own batch row.
 */
export interface EvaluateOptions {
  /** Output frames per model call. Default 32768. */
  chunkLength?: number;
  /** Frames at the start of each region's output run through the model but left out of the metrics. Default 0. */
  burnIn?: number;
  /**
   * Also compute this loss over each region's measured frames (as one row per channel, in segments of
   * 2.7 to 5.5 s at 48 kHz) and report the mean weighted by samples. Needs the region's output in memory
   * (the audio's size again, not more).
   */
  loss?: LossConfig;
  /** Return the output audio of every region (for renders and reports). */
  keepOutput?: boolean;
}

/** A pair and some of its regions. */
export interface EvaluateSource {
  pair: Pair;
  regions: readonly Region[];
}

/** The output of one region: frames [start, start + channels[c].length) of the source pair. */
export interface RegionOutput {
  /** Index of the source (0 for `evaluate`). */
  source: number;
  start: number;
  channels: Float32Array[];
}

export interface EvaluateResult {
  esr: number;
  mse: number;
  /** Frames measured (summed over regions). */
  frames: number;
  /** Values measured: frames x channels. */
  samples: number;
  /** The loss, when `options.loss` was given (null otherwise, or when nothing was measured). */
  loss: number | null;
  /** Output audio per region, when `options.keepOutput` (null otherwise). */
  outputs: RegionOutput[] | null;
}

export const DEFAULT_CHUNK_LENGTH = 32768;

interface Task {
  source: number;
  pair: Pair;
  start: number;
  end: number;
}

/**
 * An evaluation run one chunk at a time (`step()`), so a caller (the trainer) can yield to the event loop
 * between chunks; `evaluate` runs it to the end.
 */
export class Evaluation {
  private readonly model: Model;
  private readonly tasks: Task[] = [];
  private readonly chunkLength: number;
  private readonly burnIn: number;
  private readonly loss: Loss | null;
  private readonly keepOutput: boolean;
  private readonly totalFrames: number;
  private doneFrames = 0;
  private task = -1;
  private position = 0;
  private metricStart = 0;
  private rows = 0;
  private rowsPerBatch = 1;
  private input: Floats | undefined;
  private regionOutput: Float32Array[] | null = null;
  private lossPrediction: Float32Array | null = null;
  private lossTarget: Float32Array | null = null;
  private segmentPrediction: Float32Array | undefined;
  private segmentTarget: Float32Array | undefined;
  private error = 0;
  private signal = 0;
  private frames = 0;
  private samples = 0;
  private lossSum = 0;
  private lossWeight = 0;
  private readonly outputs: RegionOutput[] = [];
  private finished = false;

  constructor(model: Model, sources: readonly EvaluateSource[], options: EvaluateOptions = {}) {
    const chunkLength = options.chunkLength ?? DEFAULT_CHUNK_LENGTH;
    const burnIn = options.burnIn ?? 0;
    if (!(Number.isInteger(chunkLength) && chunkLength >= 1)) {
      throw new OptionError(
        "options/invalid",
        `evaluate: chunkLength must be a whole number >= 1, got ${chunkLength}`,
      );
    }
    if (!(Number.isInteger(burnIn) && burnIn >= 0)) {
      throw new OptionError("options/invalid", `evaluate: burnIn must be a whole number >= 0, got ${burnIn}`);
    }
    this.model = model;
    this.chunkLength = chunkLength;
    this.burnIn = burnIn;
    this.loss = options.loss ? createLoss(options.loss) : null;
    this.keepOutput = options.keepOutput ?? false;
    let total = 0;
    sources.forEach((source, index) => {
      const channels = source.pair.input.channels.length;
      if (channels !== model.channels && model.channels !== 1) {
        throw new OptionError(
          "options/invalid",
          `evaluate: the model has ${model.channels} channels, the audio ${channels}: they must match (or the model be mono)`,
        );
      }
      const frames = source.pair.input.channels[0]?.length ?? 0;
      for (const region of source.regions) {
        if (!(region.start >= 0 && region.end <= frames && region.start < region.end)) {
          throw new OptionError(
            "options/invalid",
            `evaluate: region [${region.start}, ${region.end}) is not within the audio's 0..${frames} frames`,
          );
        }
        this.tasks.push({ source: index, pair: source.pair, start: region.start, end: region.end });
        total += Math.max(0, region.end - region.start - (model.receptiveField - 1));
      }
    });
    this.totalFrames = total;
  }

  /** Fraction of the output frames computed so far, 0..1. */
  get progress(): number {
    return this.totalFrames === 0 ? 1 : this.doneFrames / this.totalFrames;
  }

  /** Runs the model over the next chunk; returns false once every region is done. */
  step(): boolean {
    if (this.finished) return false;
    while (this.task < 0 || this.position >= this.tasks[this.task]!.end) {
      if (this.task >= 0) this.finishRegion();
      this.task++;
      if (this.task >= this.tasks.length) {
        this.model.resetState();
        this.model.setCarryState(false);
        this.finished = true;
        return false;
      }
      this.startRegion();
    }
    this.runChunk();
    return true;
  }

  result(): EvaluateResult {
    while (this.step()) {
      // run to the end
    }
    const esr = this.signal > 0 ? this.error / this.signal : this.error > 0 ? Number.POSITIVE_INFINITY : 0;
    return {
      esr,
      mse: this.samples > 0 ? this.error / this.samples : 0,
      frames: this.frames,
      samples: this.samples,
      loss: this.loss && this.lossWeight > 0 ? this.lossSum / this.lossWeight : null,
      outputs: this.keepOutput ? this.outputs : null,
    };
  }

  private startRegion(): void {
    const task = this.tasks[this.task]!;
    const rows = task.pair.input.channels.length;
    const outStart = task.start + this.model.receptiveField - 1;
    this.rows = rows;
    this.rowsPerBatch = rows / this.model.channels;
    this.position = outStart;
    this.metricStart = Math.min(task.end, outStart + this.burnIn);
    this.model.resetState();
    this.model.setCarryState(true);
    const produced = Math.max(0, task.end - outStart);
    this.regionOutput =
      this.keepOutput && produced > 0 ? Array.from({ length: rows }, () => new Float32Array(produced)) : null;
    const measured = task.end - this.metricStart;
    if (this.loss && measured > 0) {
      this.lossPrediction = new Float32Array(rows * measured);
      this.lossTarget = new Float32Array(rows * measured);
    } else {
      this.lossPrediction = null;
      this.lossTarget = null;
    }
  }

  private runChunk(): void {
    const task = this.tasks[this.task]!;
    const { pair } = task;
    const history = this.model.receptiveField - 1;
    const n = Math.min(this.chunkLength, task.end - this.position);
    const inLength = history + n;
    const rows = this.rows;
    const like = this.model.parameters.values;
    if (this.input?.length !== rows * inLength || this.input.constructor !== like.constructor) {
      this.input =
        like instanceof Float64Array ? new Float64Array(rows * inLength) : new Float32Array(rows * inLength);
    }
    const input = this.input;
    const from = this.position - history;
    for (let r = 0; r < rows; r++) {
      input.set(pair.input.channels[r]!.subarray(from, from + inLength), r * inLength);
    }
    const output = this.model.forward({
      data: input,
      batch: this.rowsPerBatch,
      channels: this.model.channels,
      length: inLength,
    });
    if (output.data.length !== rows * n) {
      throw new DeepspError(
        "train/shape",
        `evaluate: ${this.model.architecture} returned ${output.data.length} values for ${rows} x ${inLength} input frames, expected ${rows} x ${n}`,
      );
    }
    const out = output.data;
    const outStart = task.start + history;
    const measured = task.end - this.metricStart;
    for (let r = 0; r < rows; r++) {
      const target = pair.target.channels[r]!;
      const row = r * n;
      const keep = this.regionOutput?.[r];
      if (keep) for (let i = 0; i < n; i++) keep[this.position - outStart + i] = out[row + i]!;
      const first = Math.max(0, this.metricStart - this.position);
      for (let i = first; i < n; i++) {
        const t = this.position + i;
        const y = target[t]!;
        const e = y - out[row + i]!;
        this.error += e * e;
        this.signal += y * y;
      }
      if (this.lossPrediction && this.lossTarget) {
        const offset = r * measured - this.metricStart;
        for (let i = first; i < n; i++) {
          const t = this.position + i;
          this.lossPrediction[offset + t] = out[row + i]!;
          this.lossTarget[offset + t] = target[t]!;
        }
      }
    }
    const counted = Math.max(0, n - Math.max(0, this.metricStart - this.position));
    this.frames += counted;
    this.samples += counted * rows;
    this.position += n;
    this.doneFrames += n;
  }

  /** Frames [from, to) of every row of the region's loss buffers ([rows, measured]), as [rows, to - from]. */
  private lossSegment(from: number, to: number, measured: number): [Float32Array, Float32Array] {
    const prediction = this.lossPrediction!;
    const target = this.lossTarget!;
    if (from === 0 && to === measured) return [prediction, target];
    const n = to - from;
    const rows = prediction.length / measured;
    if (this.segmentPrediction?.length !== rows * n) {
      this.segmentPrediction = new Float32Array(rows * n);
      this.segmentTarget = new Float32Array(rows * n);
    }
    for (let r = 0; r < rows; r++) {
      this.segmentPrediction.set(prediction.subarray(r * measured + from, r * measured + to), r * n);
      this.segmentTarget!.set(target.subarray(r * measured + from, r * measured + to), r * n);
    }
    return [this.segmentPrediction, this.segmentTarget!];
  }

  private finishRegion(): void {
    const task = this.tasks[this.task]!;
    const measured = task.end - this.metricStart;
    if (this.loss && this.lossPrediction && this.lossTarget && measured > 0) {
      // Segments of LOSS_SEGMENT to 2 x LOSS_SEGMENT frames: a loss keeps work buffers the size of its input
      // (a multi-resolution STFT several times the audio, in float64), so one call over a 90 s region would
      // need gigabytes. Each segment's loss is weighted by its frames.
      const segments = Math.max(1, Math.floor(measured / LOSS_SEGMENT));
      for (let k = 0; k < segments; k++) {
        const from = Math.floor((k * measured) / segments);
        const to = Math.floor(((k + 1) * measured) / segments);
        const [prediction, target] = this.lossSegment(from, to, measured);
        const value = this.loss.forward(prediction, target, {
          batch: this.rowsPerBatch,
          channels: this.model.channels,
          length: to - from,
        });
        this.lossSum += value * (to - from) * this.rows;
        this.lossWeight += (to - from) * this.rows;
      }
    }
    if (this.regionOutput) {
      this.outputs.push({
        source: task.source,
        start: task.start + this.model.receptiveField - 1,
        channels: this.regionOutput,
      });
    }
    this.regionOutput = null;
    this.lossPrediction = null;
    this.lossTarget = null;
  }
}

/** Frames per call of the validation loss (about 2.7 s at 48 kHz); see finishRegion. */
const LOSS_SEGMENT = 1 << 17;

/** Evaluates a model over regions of one pair (see `Evaluation` for chunking and the metrics). */
export function evaluate(
  model: Model,
  pair: Pair,
  regions: readonly Region[],
  options: EvaluateOptions = {},
): EvaluateResult {
  return new Evaluation(model, [{ pair, regions }], options).result();
}

/** Evaluates over regions of several pairs together (one ESR over all of them). */
export function evaluateSources(
  model: Model,
  sources: readonly EvaluateSource[],
  options: EvaluateOptions = {},
): EvaluateResult {
  return new Evaluation(model, sources, options).result();
}
