import { OptionError } from "../../../core/errors.ts";
import { arenaCopy, type Signal } from "../../../runtime/graph.ts";
import { convBlock, copySamples } from "../../../runtime/kernels.ts";
import { MAX_BLOCK_LIMIT } from "../../../runtime/processor.ts";
import type { WasmKernels } from "../../../runtime/wasm/kernels.ts";
import { NamError, type NamFile, WeightReader } from "../file.ts";

/**
 * One stream of a .nam model, as NAM core's `DSP` runs it (NAM/dsp.h): fixed weights, a state, blocks of samples.
 * Blocks are channel-major: channel c of a block sits at [c * maxBlock, c * maxBlock + frames) (a mono model's
 * block is just the first `frames` samples).
 */
export interface NamDsp {
  /** Input and output channels (1 and 1 for a model the player plays; a condition DSP may output more). */
  readonly inChannels: number;
  readonly outChannels: number;
  /** The rate the model was trained at (Hz), or null when the file does not say. Nothing is resampled. */
  readonly sampleRate: number | null;
  /** Zeros run by reset(true) (NAM core's `GetPrewarmSamples()`), before rounding up to whole blocks. */
  readonly prewarmSamples: number;
  /** Samples of input an output sample depends on; undefined for a recurrent model (unbounded). */
  readonly receptiveField: number | undefined;
  /** Allocates for blocks of up to `maxBlock` frames and puts the fresh state in place (no prewarm). */
  prepare(maxBlock: number): void;
  /** Processes `frames` <= maxBlock frames. Never allocates; the output does not depend on how the signal is split. */
  process(input: Float32Array, output: Float32Array, frames: number): void;
  /**
   * Back to the state of a freshly loaded model (zero histories, an LSTM's stored initial state); with `prewarm`,
   * then runs zeros as NAM core's `prewarm()` does (blocks of maxBlock until at least prewarmSamples have run).
   * The prewarmed state is computed on the first such reset after prepare() and copied back on later ones (NAM
   * core caches a WaveNet's the same way, NAM/conv1d.h), so reset() costs a copy. Never allocates.
   */
  reset(prewarm: boolean): void;
}

/** A NamDsp whose state a containing DSP (a WaveNet around its condition DSP) clears, saves and restores. */
export interface StatefulDsp extends NamDsp {
  /** The fresh state. */
  clearState(): void;
  /** Remembers the state (the one copy restoreState returns to). */
  saveState(): void;
  restoreState(): void;
}

/** A loaded .nam model: weights read and checked once, shared by every stream created from it. */
export interface NamModel {
  /** The architecture that plays, e.g. "WaveNet" (a container's chosen submodel's). */
  readonly architecture: string;
  /**
   * A new stream. `exactActivations`: with the wasm kernels, tanh, sigmoid and SiLU in float64 rounded once, as
   * the JS kernels compute them (Math.tanh / Math.exp); by default fastmath-style float32 approximations (max abs
   * error ~1e-7, src/runtime/wasm/kernels.ts), about 3x cheaper.
   */
  create(exactActivations?: boolean): StatefulDsp;
}

/** Builds the model of a nested .nam object (a condition DSP, a container's submodel). */
export type BuildModel = (file: NamFile) => NamModel;

const EMPTY = new Float32Array(0);

/** The prepare / reset / prewarm logic every architecture shares. */
export abstract class DspBase implements StatefulDsp {
  abstract readonly inChannels: number;
  abstract readonly outChannels: number;
  abstract readonly prewarmSamples: number;
  abstract readonly receptiveField: number | undefined;
  protected maxBlock = 0;
  private zeros = EMPTY;
  private sink = EMPTY;
  /** Whether saveState() holds the prewarmed state. */
  private prewarmSaved = false;

  constructor(readonly sampleRate: number | null) {}

  prepare(maxBlock: number): void {
    if (!(Number.isInteger(maxBlock) && maxBlock >= 1 && maxBlock <= MAX_BLOCK_LIMIT)) {
      throw new OptionError(
        "options/invalid",
        `prepare: maxBlock must be a whole number of frames in [1, ${MAX_BLOCK_LIMIT}], got ${maxBlock}`,
      );
    }
    this.allocate(maxBlock);
    this.maxBlock = maxBlock;
    this.zeros = new Float32Array(this.inChannels * maxBlock);
    this.sink = new Float32Array(this.outChannels * maxBlock);
    this.prewarmSaved = false;
    this.clearState();
  }

  reset(prewarm: boolean): void {
    if (this.maxBlock === 0) return;
    if (prewarm && this.prewarmSaved) {
      this.restoreState();
      return;
    }
    this.clearState();
    if (!prewarm || this.prewarmSamples === 0) return;
    // dsp.cpp DSP::prewarm: whole blocks of maxBufferSize zeros until at least GetPrewarmSamples() have run
    // (the count matters for an LSTM, whose state need not settle).
    for (let done = 0; done < this.prewarmSamples; done += this.maxBlock) {
      this.process(this.zeros, this.sink, this.maxBlock);
    }
    this.saveState();
    this.prewarmSaved = true;
  }

  /** Allocates buffers for blocks of up to maxBlock frames (the state is cleared after). */
  protected abstract allocate(maxBlock: number): void;
  abstract process(input: Float32Array, output: Float32Array, frames: number): void;
  abstract clearState(): void;
  abstract saveState(): void;
  abstract restoreState(): void;
}

/**
 * A DSP whose state is the history of some of its signals (NAM core's ring buffers): clearing, saving and
 * restoring the state is doing so to those signals.
 */
export abstract class HistoryDsp extends DspBase {
  /** The signals that keep history (set by the constructor). */
  protected abstract readonly histories: readonly Signal[];

  clearState(): void {
    clearSignals(this.histories);
  }

  saveState(): void {
    saveSignals(this.histories);
  }

  restoreState(): void {
    restoreSignals(this.histories);
  }
}

/** Starts every signal's block (a history may move to the front of its row first). */
export function beginSignals(signals: readonly Signal[], frames: number): void {
  for (let i = 0; i < signals.length; i++) signals[i]!.begin(frames);
}

/** Ends every signal's block: it becomes history. */
export function advanceSignals(signals: readonly Signal[], frames: number): void {
  for (let i = 0; i < signals.length; i++) signals[i]!.advance(frames);
}

/** Zero histories (the fresh state of NAM core's ring buffers). */
export function clearSignals(signals: readonly Signal[]): void {
  for (let i = 0; i < signals.length; i++) signals[i]!.clear();
}

export function saveSignals(signals: readonly Signal[]): void {
  for (let i = 0; i < signals.length; i++) signals[i]!.save();
}

export function restoreSignals(signals: readonly Signal[]): void {
  for (let i = 0; i < signals.length; i++) signals[i]!.restore();
}

/** A convolution's weights and shape (NAM core's Conv1D / Conv1x1). */
export interface Conv {
  /** [outChannels, inChannels / groups, kernelSize] (NAM's flattening = PyTorch Conv1d's, oldest tap first). */
  w: Float32Array;
  /** [outChannels], or null without bias. */
  b: Float32Array | null;
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  dilation: number;
  groups: number;
  /**
   * The wasm SIMD kernels whose arena holds w and b (and every signal the conv reads and writes), or null: the
   * JS kernels. A model's weights have null; a DSP binds its own copies at prepare (bindConv).
   */
  wasm: WasmKernels | null;
}

/** `conv` for a DSP whose signals live in the arena of `wasm`: w and b copied there (`conv` itself when null). */
export function bindConv(conv: Conv, wasm: WasmKernels | null): Conv {
  if (wasm === null) return conv;
  // Written out (no spread): the same shape as the model's convs.
  return {
    w: arenaCopy(wasm, conv.w),
    b: arenaCopy(wasm, conv.b),
    inChannels: conv.inChannels,
    outChannels: conv.outChannels,
    kernelSize: conv.kernelSize,
    dilation: conv.dilation,
    groups: conv.groups,
    wasm,
  };
}

/** The w and b of each conv (what an arena for their copies must hold). */
export function convArrays(convs: readonly Conv[]): (Float32Array | null)[] {
  return convs.flatMap((conv) => [conv.w, conv.b]);
}

/**
 * Copies a block of `channels` rows from `block` (in the arena) to `output`, both channel-major with rows of
 * maxBlock: a DSP on the wasm kernels convolves into its arena, then copies out to the caller's output.
 */
export function copyBlock(
  output: Float32Array,
  block: Float32Array,
  channels: number,
  maxBlock: number,
  frames: number,
): void {
  for (let c = 0; c < channels; c++) copySamples(output, c * maxBlock, block, c * maxBlock, frames);
}

/**
 * out (+)= conv(inp) over a block (runtime convBlock with the conv's shape, the wasm one for a bound conv, whose
 * `out` and `inp` must then be in its arena). The block starts at `inAt` in rows
 * of `inp` (row stride `inStride`) that keep the conv's (kernelSize - 1) * dilation samples of history before it;
 * the result goes to rows of `out` from `outAt` (row stride `outStride`), added to them with `accumulate`.
 */
export function convolve(
  conv: Conv,
  out: Float32Array,
  outAt: number,
  outStride: number,
  inp: Float32Array,
  inAt: number,
  inStride: number,
  frames: number,
  accumulate: boolean,
): void {
  // The wasm kernel takes the JS kernel's arguments (src/runtime/wasm/kernels.ts); it closes over its arena.
  const kernel = conv.wasm === null ? convBlock : conv.wasm.convBlock;
  kernel(
    out,
    outAt,
    outStride,
    inp,
    inAt - (conv.kernelSize - 1) * conv.dilation,
    inStride,
    conv.w,
    conv.b,
    conv.inChannels,
    conv.outChannels,
    conv.kernelSize,
    conv.dilation,
    conv.groups,
    frames,
    accumulate,
  );
}

/**
 * Reads a model's weights with `read` (in the order NAM core's set_weights_ takes them) after checking their
 * count, as NAM core's get_dsp does: a dry run counts what `read` takes, so a short or long file is one error
 * naming both counts.
 */
export function readWeights<T>(file: NamFile, read: (reader: WeightReader) => T): T {
  const counter = new WeightCounter();
  read(counter);
  if (counter.consumed !== file.weights.length) {
    throw new NamError(
      "nam/weight-count",
      `${file.source}: the config implies ${counter.consumed} weights, the file has ${file.weights.length}`,
    );
  }
  const reader = new WeightReader(file.weights, file.source);
  const result = read(reader);
  reader.finish();
  return result;
}

/** Reads nothing: counts what is taken from it (and hands out zeros). */
class WeightCounter extends WeightReader {
  private count = 0;

  constructor() {
    super([], "");
  }

  override take(count: number): Float32Array {
    this.count += count;
    return new Float32Array(count);
  }

  override next(): number {
    this.count++;
    return 0;
  }

  override get consumed(): number {
    return this.count;
  }
}
