import { DeepspError } from "../../core/errors.ts";
import {
  instantiateWasmKernels,
  type KernelBackend,
  overrideWasmAvailability,
  resolveKernelBackend,
  setKernelBackend,
  wasmKernelsAvailable,
} from "../../nn/kernels/wasm/module.ts";

/*
 * The WebAssembly SIMD kernels (assembly/conv.ts, loaded by src/nn/kernels/wasm/module.ts) and the
 * choice between them and their JS twins in ../kernels.ts. The wasm functions read and write one linear memory,
 * the arena: a caller allocates its signal rows, weights and biases there once (`alloc`, at prepare time) and
 * then calls the kernels with no copying. The arena never grows, so those arrays stay valid (an AudioWorklet
 * must not allocate in process()).
 */

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
}

export {
  type KernelBackend,
  overrideWasmAvailability,
  resolveKernelBackend,
  setKernelBackend,
  wasmKernelsAvailable,
};

/**
 * Instantiates the wasm kernels over a fresh arena of at least `arenaBytes` bytes (default 1 MiB). Throws when
 * wasm SIMD is unavailable: check `resolveKernelBackend()` first.
 */
export function createWasmKernels(options: { arenaBytes?: number } = {}): WasmKernels {
  const pages = Math.max(1, Math.ceil((options.arenaBytes ?? 1 << 20) / 65536) + 1);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const conv = instantiateWasmKernels(memory)["convBlock"]!;
  const end = pages * 65536;
  // Address 0 stands for "no bias": the arena starts at 16.
  let next = 16;
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
  };
}
