import { OptionError } from "../core/errors.ts";
import type { Model } from "../nn/models/model.ts";
import { type Core, type ModelPlan, planModel } from "./plans.ts";

/**
 * A stateful, real-time block processor: the same object runs in Node and inside an AudioWorklet.
 * prepare() may allocate; process() and reset() never allocate, throw or log.
 */
export interface StreamProcessor {
  /** Audio channels in and out. */
  readonly channels: number;
  /** Output delay relative to the input, in samples: 0 for deepsp's causal models. */
  readonly latencySamples: number;
  /** Misuses of process() so far (see `lastFault`); process() never throws. */
  readonly faultCount: number;
  /** What the last misuse was, or null when there has been none. */
  readonly lastFault: StreamFault | null;
  /**
   * Allocates for blocks of up to `maxBlock` frames and resets the state. May allocate; throws an OptionError
   * for a sample rate that is not a positive finite number or a maxBlock that is not a whole number in
   * [1, 1048576]. Can be called again (e.g. for a new block size); the state starts over.
   */
  prepare(sampleRate: number, maxBlock: number): void;
  /**
   * Processes `frames` samples of every channel: input[c] / output[c] hold at least `frames` samples;
   * output may alias input. Never allocates, throws or logs. Misuse is counted in faultCount / lastFault:
   *   - before prepare(), or with fewer than `channels` input / output arrays, arrays shorter than `frames`,
   *     or `frames` not a whole number >= 0: the output arrays present get zeros over
   *     [0, min(frames, their length)) and the state is left untouched;
   *   - frames > maxBlock: processed correctly in pieces of maxBlock (the host asked for more work per call
   *     than it planned for, so the block may overrun its time budget), recorded as "block-too-large".
   */
  process(input: readonly Float32Array[], output: Float32Array[], frames: number): void;
  /** Back to the state before any audio (zero history / zero recurrent state). Never allocates. */
  reset(): void;
}

/** Why a process() call was not what the contract allows. */
export type StreamFault =
  | "not-prepared"
  | "missing-channels"
  | "short-buffer"
  | "bad-frames"
  | "block-too-large";

export interface StreamProcessorOptions {
  /**
   * Audio channels the processor takes. A mono model (channels 1) runs once per audio channel, each with its
   * own independent state; a multichannel model needs exactly its own channel count. Default: the model's.
   */
  audioChannels?: number;
  /**
   * Samples of low-level noise prepare() runs through the processor (in blocks of varied sizes up to maxBlock)
   * before resetting the state, so the JavaScript engine has optimised the processing code before the first
   * real block: until it has, V8's interpreter boxes intermediate numbers (garbage, then a GC pause on the audio
   * thread). 0 skips it. Default 16384 (a third of a second of audio at 48 kHz, computed in prepare()).
   */
  warmUpSamples?: number;
}

/** The largest maxBlock prepare() accepts (2^20 frames: a block size, not a whole file's length). */
export const MAX_BLOCK_LIMIT = 1 << 20;

/**
 * Compiles a trained model for streaming: copies its weights (later training does not change the processor)
 * and reads its config (model.toConfig()). A processor fed a signal from reset outputs what the model outputs
 * for that signal preceded by silence: convolutional models as model.forward on [zeros(receptiveField - 1), x]
 * (biases included: the state after "prewarming" with silence), recurrent models from zero state.
 */
export function createStreamProcessor(model: Model, options: StreamProcessorOptions = {}): StreamProcessor {
  return createPlanProcessor(planModel(model), options);
}

/**
 * A processor over any plan (deepsp's own models, a .nam player): the fault handling, block splitting and
 * warm-up are the same for all. Each audio channel group gets its own core from plan.createCore().
 */
export function createPlanProcessor(plan: ModelPlan, options: StreamProcessorOptions = {}): StreamProcessor {
  const audioChannels = options.audioChannels ?? plan.channels;
  if (!(Number.isInteger(audioChannels) && audioChannels >= 1)) {
    throw new OptionError(
      "options/invalid",
      `audioChannels: expected a whole number >= 1, got ${audioChannels}`,
    );
  }
  if (plan.channels !== 1 && audioChannels !== plan.channels) {
    throw new OptionError(
      "options/invalid",
      `audioChannels: a ${plan.architecture} model with ${plan.channels} channels processes exactly ${plan.channels} audio channels, got ${audioChannels}`,
    );
  }
  const warmUpSamples = options.warmUpSamples ?? 16384;
  if (!(Number.isInteger(warmUpSamples) && warmUpSamples >= 0)) {
    throw new OptionError(
      "options/invalid",
      `warmUpSamples: expected a whole number >= 0, got ${warmUpSamples}`,
    );
  }
  return new ModelProcessor(plan, audioChannels, warmUpSamples);
}

class ModelProcessor implements StreamProcessor {
  readonly channels: number;
  readonly latencySamples = 0;
  faultCount = 0;
  lastFault: StreamFault | null = null;
  private readonly cores: Core[] = [];
  /** cores[i] handles audio channels [firsts[i], firsts[i] + cores[i].channels). */
  private readonly firsts: number[] = [];
  private maxBlock = 0;

  private readonly warmUpSamples: number;

  constructor(plan: ModelPlan, audioChannels: number, warmUpSamples: number) {
    this.channels = audioChannels;
    this.warmUpSamples = warmUpSamples;
    for (let first = 0; first < audioChannels; first += plan.channels) {
      this.cores.push(plan.createCore());
      this.firsts.push(first);
    }
  }

  prepare(sampleRate: number, maxBlock: number): void {
    if (!(typeof sampleRate === "number" && Number.isFinite(sampleRate) && sampleRate > 0)) {
      throw new OptionError(
        "options/invalid",
        `prepare: sampleRate must be a positive number of Hz, got ${sampleRate}`,
      );
    }
    if (!(Number.isInteger(maxBlock) && maxBlock >= 1 && maxBlock <= MAX_BLOCK_LIMIT)) {
      throw new OptionError(
        "options/invalid",
        `prepare: maxBlock must be a whole number of frames in [1, ${MAX_BLOCK_LIMIT}], got ${maxBlock}`,
      );
    }
    this.maxBlock = 0;
    for (const core of this.cores) core.prepare(maxBlock);
    this.maxBlock = maxBlock;
    this.warmUp();
  }

  /** Runs the processing path on deterministic low-level noise, then returns to the prepared state. */
  private warmUp(): void {
    const maxBlock = this.maxBlock;
    const input: Float32Array[] = [];
    const output: Float32Array[] = [];
    let seed = 12345;
    for (let c = 0; c < this.channels; c++) {
      const noise = new Float32Array(maxBlock);
      for (let t = 0; t < maxBlock; t++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        noise[t] = (seed / 4294967296 - 0.5) * 0.2;
      }
      input.push(noise);
      output.push(new Float32Array(maxBlock));
    }
    const { faultCount, lastFault } = this;
    // Block sizes sweep 1..maxBlock in uneven steps: short blocks make many calls, long ones long loops.
    for (let done = 0, i = 0; done < this.warmUpSamples; i++) {
      const frames = Math.min(1 + ((i * 37) % maxBlock), this.warmUpSamples - done);
      this.process(input, output, frames);
      done += frames;
    }
    this.faultCount = faultCount;
    this.lastFault = lastFault;
    this.reset();
  }

  reset(): void {
    if (this.maxBlock === 0) return;
    const cores = this.cores;
    for (let i = 0; i < cores.length; i++) cores[i]!.restore();
  }

  process(input: readonly Float32Array[], output: Float32Array[], frames: number): void {
    const fault = this.check(input, output, frames);
    if (fault !== null) {
      this.fault(fault);
      if (fault !== "block-too-large") {
        silence(output, frames);
        return;
      }
    }
    const maxBlock = this.maxBlock;
    for (let offset = 0; offset < frames; offset += maxBlock)
      this.run(input, output, offset, Math.min(maxBlock, frames - offset));
  }

  private run(input: readonly Float32Array[], output: Float32Array[], offset: number, frames: number): void {
    const cores = this.cores;
    const firsts = this.firsts;
    // Every core reads its input before any writes its output, so output may alias input.
    for (let i = 0; i < cores.length; i++) cores[i]!.ingest(input, firsts[i]!, offset, frames);
    for (let i = 0; i < cores.length; i++) cores[i]!.render(output, firsts[i]!, offset, frames);
  }

  private check(input: readonly Float32Array[], output: Float32Array[], frames: number): StreamFault | null {
    if (this.maxBlock === 0) return "not-prepared";
    if (!(typeof frames === "number" && Number.isInteger(frames) && frames >= 0)) return "bad-frames";
    // (Hosts are JavaScript too: a missing array must not throw either.)
    if (!(input?.length >= this.channels && output?.length >= this.channels)) return "missing-channels";
    for (let c = 0; c < this.channels; c++) {
      const x = input[c];
      const y = output[c];
      if (x === undefined || y === undefined || x.length < frames || y.length < frames) return "short-buffer";
    }
    return frames > this.maxBlock ? "block-too-large" : null;
  }

  private fault(fault: StreamFault): void {
    this.faultCount++;
    this.lastFault = fault;
  }
}

/** Zeros over [0, min(frames, length)) of every output array present (nothing when frames is not a number >= 0). */
function silence(output: Float32Array[], frames: number): void {
  if (!(output && typeof frames === "number" && frames > 0)) return;
  for (let c = 0; c < output.length; c++) {
    const y = output[c];
    if (y instanceof Float32Array) y.fill(0, 0, Math.min(frames, y.length));
  }
}

export interface ProcessWholeOptions {
  /** Frames per process() call (also the maxBlock given to prepare). Default 4096. */
  blockSize?: number;
  /** Passed to prepare(). Default 48000 (the models themselves do not depend on it). */
  sampleRate?: number;
}

/**
 * A convenience for files: prepare(sampleRate, blockSize) (which resets the state), then process the whole
 * signal in blocks of blockSize. input: one Float32Array per channel, all the same length; returns new arrays.
 * `options` may be the block size alone.
 */
export function processWhole(
  processor: StreamProcessor,
  input: readonly Float32Array[],
  options: ProcessWholeOptions | number = {},
): Float32Array[] {
  const { blockSize = 4096, sampleRate = 48000 } =
    typeof options === "number" ? { blockSize: options } : options;
  if (input.length !== processor.channels) {
    throw new OptionError(
      "options/invalid",
      `processWhole: the processor takes ${processor.channels} channel(s), got ${input.length}`,
    );
  }
  const length = input[0]?.length ?? 0;
  input.forEach((channel, c) => {
    if (channel.length !== length) {
      throw new OptionError(
        "options/invalid",
        `processWhole: channel ${c} has ${channel.length} samples, channel 0 has ${length}`,
      );
    }
  });
  processor.prepare(sampleRate, blockSize);
  const output = input.map(() => new Float32Array(length));
  const inViews: Float32Array[] = [];
  const outViews: Float32Array[] = [];
  for (let start = 0; start < length; start += blockSize) {
    const end = Math.min(length, start + blockSize);
    inViews.length = 0;
    outViews.length = 0;
    for (let c = 0; c < input.length; c++) {
      inViews.push(input[c]!.subarray(start, end));
      outViews.push(output[c]!.subarray(start, end));
    }
    processor.process(inViews, outViews, end - start);
  }
  return output;
}
