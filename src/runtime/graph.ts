import { DeepspError } from "../core/errors.ts";
import type { ActivationKind } from "../nn/kernels/types.ts";
import { activateRows, addRows, convBlock, copySamples, gateRows, scaleRows } from "./kernels.ts";
import {
  activationCode,
  type ConvLayer,
  createWasmKernels,
  GATE_NONE,
  GATE_PRODUCT,
  MAX_LAYER_TERMS,
  packLayerWeights,
  resolveKernelBackend,
  type WasmKernels,
} from "./wasm/kernels.ts";

const EMPTY = new Float32Array(0);
/** The runtime's leaky ReLU slope (ActivationLayer's default), for a fused layer's f (and g). */
const LEAKY_SLOPES = Float32Array.of(0.01, 0.01);

/**
 * A multichannel signal inside a processor: per channel one row of `stride` samples holding `keep` samples of
 * history followed by the current block at `pos` (channel c, block sample t at data[c * stride + pos + t]).
 * The rows are several blocks long; when the next block would not fit, the last `keep` samples of each row are
 * copied to its front (an occasional copy, amortised over the blocks since the last one). keep = 0 makes a
 * plain block buffer.
 */
export class Signal {
  readonly channels: number;
  /** History samples kept before the block: at least (kernelSize - 1) * dilation of every conv reading it. */
  readonly keep: number;
  data: Float32Array = EMPTY;
  stride = 0;
  pos = 0;
  private saved: Float32Array = EMPTY;

  constructor(channels: number, keep: number) {
    this.channels = channels;
    this.keep = keep;
  }

  /** Row length for blocks of up to maxBlock samples. */
  private strideFor(maxBlock: number): number {
    return this.keep === 0 ? maxBlock : this.keep + Math.max(2 * maxBlock, 4 * this.keep, 1024);
  }

  /** Floats of `data` for blocks of up to maxBlock samples. */
  length(maxBlock: number): number {
    return this.channels * this.strideFor(maxBlock);
  }

  /** Allocates zeroed rows for blocks of up to maxBlock samples (in the wasm arena when one is given). */
  allocate(maxBlock: number, arena: WasmKernels | null = null): void {
    this.stride = this.strideFor(maxBlock);
    const length = this.channels * this.stride;
    this.data = arena === null ? new Float32Array(length) : arena.alloc(length);
    this.saved = new Float32Array(this.keep === 0 ? 0 : this.data.length);
    this.pos = this.keep;
  }

  /** Makes room for a block of `frames` samples at `pos`. */
  begin(frames: number): void {
    if (this.pos + frames > this.stride) this.shift();
  }

  /** The block is done: it becomes history. */
  advance(frames: number): void {
    if (this.keep !== 0) this.pos += frames;
  }

  /** Moves the last `keep` samples of every row to its front. */
  shift(): void {
    const { data, stride, pos, keep } = this;
    if (pos !== keep) {
      for (let c = 0; c < this.channels; c++)
        data.copyWithin(c * stride, c * stride + pos - keep, c * stride + pos);
    }
    this.pos = keep;
  }

  /** Zero history, the block back at `keep` (the state after allocate()). */
  clear(): void {
    this.data.fill(0);
    this.pos = this.keep;
  }

  /** Remembers the current history (as the state `restore` returns to). */
  save(): void {
    this.shift();
    if (this.keep !== 0) this.saved.set(this.data);
  }

  restore(): void {
    if (this.keep !== 0) this.data.set(this.saved);
    this.pos = this.keep;
  }
}

/**
 * Allocates `signals` for blocks of up to maxBlock samples: when resolveKernelBackend() picks wasm, in a fresh
 * wasm arena sized for them and for copies of `arrays` (a processor's conv weights and biases, copied in with
 * arenaCopy), which it returns; otherwise in plain arrays, returning null (the JS kernels). Call at prepare.
 */
export function allocateSignals(
  signals: readonly Signal[],
  maxBlock: number,
  arrays: readonly (Float32Array | null)[] = [],
): WasmKernels | null {
  let wasm: WasmKernels | null = null;
  if (resolveKernelBackend() === "wasm") {
    // Each alloc rounds up to 16 bytes (4 floats).
    let floats = 0;
    for (const signal of signals) floats += signal.length(maxBlock) + 4;
    for (const array of arrays) if (array !== null) floats += array.length + 4;
    wasm = createWasmKernels({ arenaBytes: 4 * floats });
  }
  for (const signal of signals) signal.allocate(maxBlock, wasm);
  return wasm;
}

/** A copy of `array` in the arena of `wasm` (the array itself when wasm is null: the JS kernels read it). */
export function arenaCopy<T extends Float32Array | null>(wasm: WasmKernels | null, array: T): T {
  if (wasm === null || array === null) return array;
  const copy = wasm.alloc(array.length);
  copy.set(array);
  return copy as T;
}

/** One step of a conv graph's block program. */
export type Op =
  | {
      kind: "conv";
      src: Signal;
      dst: Signal;
      /** [outChannels, inChannels / groups, kernelSize] */
      weight: Float32Array;
      bias: Float32Array | null;
      inChannels: number;
      outChannels: number;
      kernelSize: number;
      dilation: number;
      groups: number;
      /** Add into dst instead of overwriting it. */
      accumulate: boolean;
    }
  | { kind: "activate"; signal: Signal; channels: number; activation: ActivationKind }
  /** dst[c] = src[c] * sigmoid(src[channels + c]) (src's first half already activated). */
  | { kind: "gate"; src: Signal; dst: Signal; channels: number }
  | { kind: "add"; dst: Signal; src: Signal; channels: number }
  | { kind: "zero"; signal: Signal }
  /** scale: one value (in an array: a number passed to a function that is not inlined would be boxed). */
  | { kind: "scale"; signal: Signal; scale: Float64Array };

/** A conv model as a block program: the signals it keeps and the ops that run once per block, in order. */
export interface GraphPlan {
  /** Audio channels in and out. */
  channels: number;
  /** Where the input block is written. */
  input: Signal;
  /** Where the output block is read from. */
  output: Signal;
  signals: Signal[];
  ops: Op[];
  /**
   * Zeros run through the graph from zero histories before the first real sample (receptiveField - 1 of a
   * 'valid' model), so every history holds what the trained model computes over its zero prefix.
   */
  prewarm: number;
}

/** Runs one instance of a GraphPlan (one set of histories: one stream). */
export class GraphCore {
  readonly channels: number;
  private readonly plan: GraphPlan;
  private readonly signals: Signal[];
  private readonly ops: Op[];
  /** The wasm SIMD kernels and their arena (holding every signal and conv weight) when in use, else null. */
  private wasm: WasmKernels | null = null;
  /** Per op: a conv's weight and bias copied into the arena (EMPTY / null otherwise, or with JS kernels). */
  private weights: Float32Array[] = [];
  private biases: (Float32Array | null)[] = [];
  /**
   * With the wasm kernels, per op: the fused layer step that starts there (fuseLayer) and how many ops it stands
   * for, or null and 1.
   */
  private fused: (ConvLayer | null)[] = [];
  private spans: number[] = [];

  constructor(plan: GraphPlan) {
    for (const op of plan.ops) {
      if (op.kind === "conv" && op.src.keep < (op.kernelSize - 1) * op.dilation) {
        throw new DeepspError(
          "runtime/plan",
          `a conv with kernel ${op.kernelSize} and dilation ${op.dilation} reads a signal keeping only ${op.src.keep} samples of history`,
        );
      }
    }
    this.plan = plan;
    this.channels = plan.channels;
    this.signals = plan.signals;
    this.ops = plan.ops;
  }

  /** Which kernels run the convolutions (chosen at prepare by resolveKernelBackend()). */
  get backend(): "wasm" | "js" {
    return this.wasm === null ? "js" : "wasm";
  }

  prepare(maxBlock: number): void {
    // One arena per core, sized once: every signal row and conv weight lives in wasm memory (no copies per block);
    // each weight twice: as it is (convBlock) and packed (a fused layer's, with its slopes).
    const convs = this.ops.flatMap((op) =>
      op.kind === "conv" ? [op.weight, op.weight, op.bias, LEAKY_SLOPES] : [],
    );
    const wasm = allocateSignals(this.signals, maxBlock, convs);
    this.wasm = wasm;
    this.weights = this.ops.map((op) => (op.kind === "conv" ? arenaCopy(wasm, op.weight) : EMPTY));
    this.biases = this.ops.map((op) => (op.kind === "conv" ? arenaCopy(wasm, op.bias) : null));
    this.fused = this.ops.map(() => null);
    this.spans = this.ops.map(() => 1);
    if (wasm !== null) {
      for (let i = 0; i < this.ops.length; ) {
        const fused = fuseLayer(wasm, this.ops, i, this.biases[i]!);
        if (fused === null) {
          i++;
          continue;
        }
        this.fused[i] = fused.layer;
        this.spans[i] = fused.span;
        i += fused.span;
      }
    }
    // Silence through the graph (zero histories before it) puts the trained model's zero-prefix state in place.
    const zeros: Float32Array[] = [];
    const sink: Float32Array[] = [];
    for (let c = 0; c < this.channels; c++) {
      zeros.push(new Float32Array(maxBlock));
      sink.push(new Float32Array(maxBlock));
    }
    for (let done = 0; done < this.plan.prewarm; ) {
      const frames = Math.min(maxBlock, this.plan.prewarm - done);
      this.ingest(zeros, 0, 0, frames);
      this.render(sink, 0, 0, frames);
      done += frames;
    }
    for (const signal of this.signals) signal.save();
  }

  restore(): void {
    const signals = this.signals;
    for (let i = 0; i < signals.length; i++) signals[i]!.restore();
  }

  /** Copies input[first + c][offset, offset + frames) into the graph. */
  ingest(input: readonly Float32Array[], first: number, offset: number, frames: number): void {
    const signals = this.signals;
    for (let i = 0; i < signals.length; i++) signals[i]!.begin(frames);
    const x = this.plan.input;
    for (let c = 0; c < this.channels; c++)
      copySamples(x.data, c * x.stride + x.pos, input[first + c]!, offset, frames);
  }

  /** Runs the block program and writes output[first + c][offset, offset + frames). */
  render(output: Float32Array[], first: number, offset: number, frames: number): void {
    const { ops, wasm, weights, biases, fused, spans } = this;
    for (let i = 0; i < ops.length; ) {
      const op = ops[i]!;
      const layer = fused[i];
      if (wasm === null) runOp(op, frames);
      else if (layer) wasm.convLayer(layer, frames);
      else if (op.kind === "conv") runWasmConv(wasm, op, weights[i]!, biases[i]!, frames);
      else if (op.kind === "activate") {
        const { signal } = op;
        wasm.activate(
          signal.data,
          signal.pos,
          signal.stride,
          op.channels,
          frames,
          activationCode(op.activation),
          0.01,
        );
      } else runOp(op, frames);
      i += wasm === null ? 1 : spans[i]!;
    }
    const y = this.plan.output;
    for (let c = 0; c < this.channels; c++)
      copySamples(output[first + c]!, offset, y.data, c * y.stride + y.pos, frames);
    const signals = this.signals;
    for (let i = 0; i < signals.length; i++) signals[i]!.advance(frames);
  }
}

/**
 * The ops from ops[i] that one wasm convLayer call computes (the JS twins run them one by one), or null:
 *   conv (groups 1, overwriting its dst)
 *   [conv 1x1 of another signal accumulated into the same dst (a WaveNet's mixin)]
 *   [add of a residual signal into dst (all channels)]
 *   [activate dst (all channels) | activate dst's first half + gate (dst's halves -> the gate's dst)]
 *   [add of the result into a head sum]
 * The leaky ReLU slope is the runtime's 0.01; the activations are the fast ones (src/runtime/wasm/kernels.ts).
 */
function fuseLayer(
  wasm: WasmKernels,
  ops: readonly Op[],
  i: number,
  bias: Float32Array | null,
): { layer: ConvLayer; span: number } | null {
  const conv = ops[i]!;
  if (conv.kind !== "conv" || conv.accumulate || conv.groups !== 1) return null;
  const { dst } = conv;
  let j = i + 1;
  let mix: Extract<Op, { kind: "conv" }> | null = null;
  const m = ops[j];
  if (
    m?.kind === "conv" &&
    m.accumulate &&
    m.dst === dst &&
    m.src !== dst &&
    m.kernelSize === 1 &&
    m.groups === 1 &&
    m.bias === null
  ) {
    mix = m;
    j++;
  }
  if (conv.inChannels * conv.kernelSize + (mix ? mix.inChannels : 0) > MAX_LAYER_TERMS) return null;
  let res: Signal | null = null;
  const r = ops[j];
  if (r?.kind === "add" && r.dst === dst && r.src !== dst && r.channels === conv.outChannels) {
    res = r.src;
    j++;
  }
  let activation = activationCode("identity");
  let gate = GATE_NONE;
  let result = dst;
  const a = ops[j];
  const g = ops[j + 1];
  if (a?.kind === "activate" && a.signal === dst) {
    if (a.channels === conv.outChannels) {
      activation = activationCode(a.activation);
      j++;
    } else if (
      2 * a.channels === conv.outChannels &&
      g?.kind === "gate" &&
      g.src === dst &&
      g.channels === a.channels &&
      g.dst !== dst
    ) {
      activation = activationCode(a.activation);
      gate = GATE_PRODUCT;
      result = g.dst;
      j += 2;
    }
  }
  let head: Signal | null = null;
  const h = ops[j];
  const width = gate === GATE_NONE ? conv.outChannels : conv.outChannels / 2;
  if (h?.kind === "add" && h.src === result && h.dst !== result && h.dst !== dst && h.channels === width) {
    head = h.dst;
    j++;
  }
  // A conv alone runs on convBlock.
  if (j === i + 1) return null;
  const mixChannels = mix ? mix.inChannels : 0;
  const packed = packLayerWeights(
    conv.weight,
    mix ? mix.weight : null,
    conv.outChannels,
    conv.inChannels,
    conv.kernelSize,
    mixChannels,
  );
  const layer: ConvLayer = {
    inp: conv.src,
    weight: arenaCopy(wasm, packed),
    bias,
    inChannels: conv.inChannels,
    outChannels: conv.outChannels,
    kernelSize: conv.kernelSize,
    dilation: conv.dilation,
    accumulate: false,
    mix: mix ? mix.src : null,
    mixChannels,
    out: dst,
    res,
    dst: result,
    head,
    activation,
    secondary: activationCode("sigmoid"),
    gate,
    slopes: activation === activationCode("leakyRelu") ? arenaCopy(wasm, LEAKY_SLOPES) : null,
  };
  return { layer, span: j - i };
}

/** A conv op with the wasm SIMD kernel: its signals and the arena copies of its weight and bias. */
function runWasmConv(
  wasm: WasmKernels,
  op: Extract<Op, { kind: "conv" }>,
  weight: Float32Array,
  bias: Float32Array | null,
  frames: number,
): void {
  const { src, dst } = op;
  wasm.convBlock(
    dst.data,
    dst.pos,
    dst.stride,
    src.data,
    src.pos - (op.kernelSize - 1) * op.dilation,
    src.stride,
    weight,
    bias,
    op.inChannels,
    op.outChannels,
    op.kernelSize,
    op.dilation,
    op.groups,
    frames,
    op.accumulate,
  );
}

function runOp(op: Op, frames: number): void {
  switch (op.kind) {
    case "conv": {
      const { src, dst } = op;
      convBlock(
        dst.data,
        dst.pos,
        dst.stride,
        src.data,
        src.pos - (op.kernelSize - 1) * op.dilation,
        src.stride,
        op.weight,
        op.bias,
        op.inChannels,
        op.outChannels,
        op.kernelSize,
        op.dilation,
        op.groups,
        frames,
        op.accumulate,
      );
      return;
    }
    case "activate":
      activateRows(op.signal.data, op.signal.pos, op.signal.stride, op.channels, frames, op.activation);
      return;
    case "gate": {
      const { src, dst, channels } = op;
      const b = src.pos + channels * src.stride;
      gateRows(dst.data, dst.pos, dst.stride, src.data, src.pos, b, src.stride, channels, frames);
      return;
    }
    case "add":
      addRows(
        op.dst.data,
        op.dst.pos,
        op.dst.stride,
        op.src.data,
        op.src.pos,
        op.src.stride,
        op.channels,
        frames,
      );
      return;
    case "zero": {
      const { signal } = op;
      for (let c = 0; c < signal.channels; c++) {
        const row = c * signal.stride + signal.pos;
        for (let t = 0; t < frames; t++) signal.data[row + t] = 0;
      }
      return;
    }
    case "scale":
      scaleRows(op.signal.data, op.signal.pos, op.signal.stride, op.signal.channels, frames, op.scale);
      return;
  }
}
