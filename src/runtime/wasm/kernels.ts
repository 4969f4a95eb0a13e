import { DeepspError } from "../../core/errors.ts";
import type { ActivationKind } from "../../nn/kernels/types.ts";
import {
  instantiateWasmKernels,
  type KernelBackend,
  overrideWasmAvailability,
  resolveKernelBackend,
  setKernelBackend,
  WASM_ACTIVATION_CODES,
  wasmKernelsAvailable,
} from "../../nn/kernels/wasm/module.ts";

/*
 * The WebAssembly SIMD kernels (assembly/conv.ts and assembly/stream.ts, loaded by src/nn/kernels/wasm/module.ts) and the
 * choice between them and their JS twins in ../kernels.ts. The wasm functions read and write one linear memory,
 * the arena: a caller allocates its signal rows, weights and biases there once (`alloc`, at prepare time) and
 * then calls the kernels with no copying. The arena never grows, so those arrays stay valid (an AudioWorklet
 * must not allocate in process()).
 */

/**
 * Activation codes of assembly/stream.ts. tanh, sigmoid and silu are float32 approximations built on fastmath.ts's
 * exp (max abs error ~1e-7, a few float32 ulps); their exact codes (`activationCode(kind, true)`) compute in float64
 * and round once, giving the JS twins' float32 (Math.tanh / Math.exp) but in rare 1-ulp cases, at ~6x the cost.
 */
const EXACT_CODES: Partial<Record<ActivationKind, number>> = { tanh: 8, sigmoid: 9, silu: 10 };

/** The code of `kind` for streamConvLayer / activate; `exact` picks the float64 tanh, sigmoid and silu. */
export function activationCode(kind: ActivationKind, exact = false): number {
  return (exact ? EXACT_CODES[kind] : undefined) ?? WASM_ACTIVATION_CODES[kind];
}

/** How a fused layer turns z into a: f(z); f(z[:B]) g(z[B:]); or NAM's blend g f(z[:B]) + (1 - g) z[:B]. */
export const GATE_NONE = 0;
export const GATE_PRODUCT = 1;
export const GATE_BLEND = 2;

/** Rows of a signal in the arena: channel c, block frame t at data[pos + c * stride + t] (the runtime's Signal). */
export interface ArenaRows {
  readonly data: Float32Array;
  readonly stride: number;
  readonly pos: number;
}

/**
 * One fused conv step of a layer (assembly/stream.ts streamConvLayer), every array in the arena:
 *   z = [z +] bias + conv(inp) + mixin(mix) [+ res]            into `out` (z), over the block at each rows' pos
 *   a = f(z) | f(z[:B]) g(z[B:]) | blend                       into `dst` (may be out); B = outChannels / 2 gated
 *   head += a
 * inp keeps (kernelSize - 1) * dilation frames of history before its pos; groups 1. Built once (at prepare) and
 * run every block: the rows' positions are read at each call.
 */
export interface ConvLayer {
  inp: ArenaRows;
  /** The conv's and the mixin's weights, packed by packLayerWeights. */
  weight: Float32Array;
  bias: Float32Array | null;
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  dilation: number;
  /** Add the result to what `out` holds. */
  accumulate: boolean;
  /** The input of a 1x1 conv (no bias) summed with the conv, or null (then mixChannels = 0). */
  mix: ArenaRows | null;
  mixChannels: number;
  out: ArenaRows;
  /** Added to z before the activation (all outChannels), or null. */
  res: ArenaRows | null;
  dst: ArenaRows;
  /** Accumulates a, or null. */
  head: ArenaRows | null;
  /** activationCode()s of f and g, and GATE_*. */
  activation: number;
  secondary: number;
  gate: number;
  /**
   * Leaky ReLU's negative slopes [f's, g's], in the arena, or null (no leaky ReLU). An array, not numbers: a
   * double passed to the kernel from a field would be boxed on every call (an allocation).
   */
  slopes: Float32Array | null;
}

/** The most terms (inChannels * kernelSize + mixChannels) a ConvLayer may sum: its scratch table's size. */
export const MAX_LAYER_TERMS = 4096;

/**
 * streamConvLayer's weights: the terms of output row o are the conv's (channel, tap) pairs, w [outChannels,
 * inChannels, kernelSize] (PyTorch Conv1d layout, groups 1), then the mixin's channels, mixW [outChannels,
 * mixChannels] (or null and 0). Packed per group of four rows as [term][4] (the four rows' weights of a term side
 * by side: one address and four immediate offsets in the kernel's loop), the last outChannels % 4 rows as
 * [row][term]. Call at prepare.
 */
export function packLayerWeights(
  w: Float32Array,
  mixW: Float32Array | null,
  outChannels: number,
  inChannels: number,
  kernelSize: number,
  mixChannels: number,
): Float32Array {
  const pairs = inChannels * kernelSize;
  const terms = pairs + mixChannels;
  const weight = (o: number, n: number): number =>
    n < pairs ? w[o * pairs + n]! : mixW![o * mixChannels + n - pairs]!;
  const packed = new Float32Array(outChannels * terms);
  const full = outChannels - (outChannels % 4);
  for (let o = 0; o < outChannels; o++) {
    for (let n = 0; n < terms; n++) {
      const at = o < full ? (o - (o % 4)) * terms + n * 4 + (o % 4) : o * terms + n;
      packed[at] = weight(o, n);
    }
  }
  return packed;
}

/** The wasm kernels bound to one arena. */
export interface WasmKernels {
  /** The arena; its buffer never grows (so arrays from `alloc` stay valid). */
  readonly memory: WebAssembly.Memory;
  /** Bytes left in the arena. */
  readonly freeBytes: number;
  /** A zeroed Float32Array of `length` floats in the arena, 16-byte aligned. Allocates: call at prepare. */
  alloc(length: number): Float32Array;
  /** Whether `array` lives in this arena (so the kernels can use it). */
  owns(array: Float32Array): boolean;
  /**
   * src/runtime/kernels.ts `convBlock`, same arguments and meaning, every array from `alloc` (not checked:
   * an array from elsewhere reads the arena at its offset). Sums in float32, four output rows x eight
   * frames per pass.
   */
  convBlock(
    out: Float32Array,
    outAt: number,
    outStride: number,
    inp: Float32Array,
    inAt: number,
    inStride: number,
    w: Float32Array,
    bias: Float32Array | null,
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    dilation: number,
    groups: number,
    frames: number,
    accumulate: boolean,
  ): void;
  /** One fused layer step (ConvLayer) over `frames` frames. */
  convLayer(layer: ConvLayer, frames: number): void;
  /**
   * In place: data[at + c * stride + t] = f(...) for c < channels, t < frames (f: an activationCode; slope: leaky
   * ReLU's, pass a constant or 0: a computed double is boxed on the call).
   */
  activate(
    data: Float32Array,
    at: number,
    stride: number,
    channels: number,
    frames: number,
    code: number,
    slope: number,
  ): void;
  /**
   * `frames` LSTM / GRU steps, batch 1 (assembly/stream.ts streamRecurrent), every array in the arena:
   * w from recurrentWeights; x: frame t's `inputs` at x[xAt + t * xStride]; h: rows of hp = hidden rounded up to
   * a multiple of 4 floats, row 0 the state before the block, row t + 1 after frame t; c [hp] (LSTM) in place;
   * gates: scratch [4 hp]. Float32 sums and the fast activations (max abs error ~1e-7): the exact recurrent path is
   * the JS twins (lstmSteps / gruSteps).
   */
  recurrentSteps(
    cell: "lstm" | "gru",
    h: Float32Array,
    c: Float32Array,
    x: Float32Array,
    xAt: number,
    xStride: number,
    w: Float32Array,
    gates: Float32Array,
    inputs: number,
    hidden: number,
    frames: number,
  ): void;
  /**
   * A recurrent model's linear head: y[yAt + o * yStride + t] = b[o] + sum_k w[o * hp + k] h[(t + 1) * hp + k]
   * for o < channels, t < frames; h as recurrentSteps', w rows padded to hp = paddedHidden(hidden) with zeros.
   */
  recurrentHead(
    y: Float32Array,
    yAt: number,
    yStride: number,
    h: Float32Array,
    w: Float32Array,
    b: Float32Array,
    hidden: number,
    channels: number,
    frames: number,
  ): void;
}

/** hidden rounded up to a multiple of 4: the row width of recurrentSteps' state and gate slots. */
export function paddedHidden(hidden: number): number {
  return Math.ceil(hidden / 4) * 4;
}

/**
 * Weights of recurrentSteps: (1 + inputs + hidden) rows of 4 hp floats (hp = paddedHidden), row 0 the biases,
 * then a row per input column and per hidden column; entry(q, m, k) is gate slot q of unit m, column k (-1: the
 * bias, [0, inputs): input k, [inputs, inputs + hidden): hidden unit k - inputs). Slots: LSTM i, f, g, o; GRU r,
 * z, hn (the hidden part of n's sum, with b_hn), in (the input part, with b_in); in a row, slot q of unit m is at
 * q * hp + m (the padded units' entries are 0).
 */
export function recurrentWeights(
  inputs: number,
  hidden: number,
  entry: (slot: number, unit: number, column: number) => number,
): Float32Array {
  const hp = paddedHidden(hidden);
  const w = new Float32Array((1 + inputs + hidden) * 4 * hp);
  for (let k = -1; k < inputs + hidden; k++) {
    for (let q = 0; q < 4; q++) {
      for (let m = 0; m < hidden; m++) w[(k + 1) * 4 * hp + q * hp + m] = entry(q, m, k);
    }
  }
  return w;
}

export {
  type KernelBackend,
  overrideWasmAvailability,
  resolveKernelBackend,
  setKernelBackend,
  wasmKernelsAvailable,
};

/**
 * The arena's first bytes: address 0 stands for "no bias" (16 bytes), then stream.ts's constant table (336 bytes)
 * and the scratch table of convLayer (MAX_LAYER_TERMS i32).
 */
const CONSTANTS_AT = 16;
const TABLE_AT = 512;
const RESERVED = TABLE_AT + 4 * MAX_LAYER_TERMS;

/**
 * Instantiates the wasm kernels over a fresh arena of at least `arenaBytes` bytes (default 1 MiB). Throws when
 * wasm SIMD is unavailable: check `resolveKernelBackend()` first.
 */
export function createWasmKernels(options: { arenaBytes?: number } = {}): WasmKernels {
  const pages = Math.ceil(((options.arenaBytes ?? 1 << 20) + RESERVED) / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const exports = instantiateWasmKernels(memory);
  exports["streamInit"]!(CONSTANTS_AT);
  const conv = exports["convBlock"]!;
  const layerKernel = exports["streamConvLayer"]!;
  const activateKernel = exports["streamActivate"]!;
  const recurrentKernel = exports["streamRecurrent"]!;
  const headKernel = exports["streamRecurrentHead"]!;
  // Byte address of an array (rows: at their block position) in the arena; 0 stands for none.
  const at = (rows: ArenaRows): number => rows.data.byteOffset + 4 * rows.pos;
  const end = pages * 65536;
  let next = RESERVED;
  return {
    memory,
    get freeBytes() {
      return end - next;
    },
    alloc(length) {
      const bytes = Math.ceil((length * 4) / 16) * 16;
      if (next + bytes > end) {
        throw new DeepspError(
          "runtime/wasm",
          `wasm arena full: ${length} floats asked, ${end - next} bytes left`,
        );
      }
      const array = new Float32Array(memory.buffer, next, length);
      next += bytes;
      return array;
    },
    owns(array) {
      return array.buffer === memory.buffer;
    },
    convBlock(
      out,
      outAt,
      outStride,
      inp,
      inAt,
      inStride,
      w,
      bias,
      inChannels,
      outChannels,
      kernelSize,
      dilation,
      groups,
      frames,
      accumulate,
    ) {
      conv(
        out.byteOffset + 4 * outAt,
        outStride,
        inp.byteOffset + 4 * inAt,
        inStride,
        w.byteOffset,
        bias === null ? 0 : bias.byteOffset,
        inChannels,
        outChannels,
        kernelSize,
        dilation,
        groups,
        frames,
        accumulate ? 1 : 0,
      );
    },
    convLayer(layer, frames) {
      const { inp, mix, res, head, out, dst } = layer;
      layerKernel(
        at(out),
        out.stride,
        at(inp) - 4 * (layer.kernelSize - 1) * layer.dilation,
        inp.stride,
        layer.weight.byteOffset,
        layer.bias === null ? 0 : layer.bias.byteOffset,
        layer.inChannels,
        layer.outChannels,
        layer.kernelSize,
        layer.dilation,
        mix === null ? 0 : at(mix),
        mix === null ? 0 : mix.stride,
        layer.mixChannels,
        TABLE_AT,
        res === null ? 0 : at(res),
        res === null ? 0 : res.stride,
        at(dst),
        dst.stride,
        head === null ? 0 : at(head),
        head === null ? 0 : head.stride,
        layer.activation,
        layer.secondary,
        layer.gate,
        layer.slopes === null ? 0 : layer.slopes.byteOffset,
        frames,
        layer.accumulate ? 1 : 0,
      );
    },
    activate(data, offset, stride, channels, frames, code, slope) {
      activateKernel(data.byteOffset + 4 * offset, stride, channels, frames, code, slope);
    },
    recurrentSteps(cell, h, c, x, xAt, xStride, w, gates, inputs, hidden, frames) {
      recurrentKernel(
        cell === "lstm" ? 1 : 0,
        h.byteOffset,
        c.byteOffset,
        x.byteOffset + 4 * xAt,
        xStride,
        w.byteOffset,
        gates.byteOffset,
        inputs,
        hidden,
        frames,
      );
    },
    recurrentHead(y, yAt, yStride, h, w, b, hidden, channels, frames) {
      headKernel(
        y.byteOffset + 4 * yAt,
        yStride,
        h.byteOffset,
        w.byteOffset,
        b.byteOffset,
        hidden,
        channels,
        frames,
      );
    },
  };
}
