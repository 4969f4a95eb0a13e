import { DeepspError } from "../../core/errors.ts";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm.ts";

/*
 * The WebAssembly SIMD kernels (assembly/conv.ts, built into kernels-wasm.ts by `npm run build:wasm`) and the
 * choice between them and their JS twins in ../kernels.ts. The wasm functions read and write one linear memory,
 * the arena: a caller allocates its signal rows, weights and biases there once (`alloc`, at prepare time) and
 * then calls the kernels with no copying. Decoding and compiling the 2.5 kB module is synchronous, so it works
 * in an AudioWorklet too (no fetch, no atob, no async instantiate).
 */

/** Which implementation of the runtime kernels to use: `auto` is wasm SIMD where the engine supports it. */
export type KernelBackend = "auto" | "wasm" | "js";

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

/** (module (func (result v128) v128.const i32x4 0 0 0 0)): validates only where fixed-width SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01,
  0x00, 0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
]);

let available: boolean | null = null;
let compiled: WebAssembly.Module | null = null;

/** Whether this engine runs WebAssembly with fixed-width SIMD (checked once, by validating a tiny module). */
export function wasmKernelsAvailable(): boolean {
  if (available === null) {
    available =
      typeof WebAssembly === "object" &&
      typeof WebAssembly.validate === "function" &&
      WebAssembly.validate(SIMD_PROBE);
  }
  return available;
}

/** Pretends this engine has (true) or lacks (false) wasm SIMD, or checks again (null): for fallback tests. */
export function overrideWasmAvailability(value: boolean | null): void {
  available = value;
}

let forced: KernelBackend = "auto";

/**
 * Sets the process-wide default backend (`js` forces the JS twins, e.g. for parity tests; `auto` restores the
 * default). The environment variable DEEPSP_KERNELS=js|wasm sets the same where `process` exists.
 */
export function setKernelBackend(backend: KernelBackend): void {
  forced = backend;
}

/**
 * The backend to use for `requested` (default: the process-wide setting, then DEEPSP_KERNELS, then auto):
 * wasm when asked or auto and available, js otherwise. Asking for wasm where it is unavailable gives js.
 */
export function resolveKernelBackend(requested: KernelBackend = "auto"): "wasm" | "js" {
  let choice = requested === "auto" ? forced : requested;
  if (choice === "auto") {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const value = env?.["DEEPSP_KERNELS"];
    if (value === "js" || value === "wasm") choice = value;
  }
  return choice !== "js" && wasmKernelsAvailable() ? "wasm" : "js";
}

/**
 * Instantiates the wasm kernels over a fresh arena of at least `arenaBytes` bytes (default 1 MiB). Throws when
 * wasm SIMD is unavailable: check `resolveKernelBackend()` first.
 */
export function createWasmKernels(options: { arenaBytes?: number } = {}): WasmKernels {
  if (!wasmKernelsAvailable())
    throw new DeepspError("runtime/wasm", "WebAssembly SIMD is not available in this engine");
  compiled ??= new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64));
  const pages = Math.max(1, Math.ceil((options.arenaBytes ?? 1 << 20) / 65536) + 1);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as {
    convBlock: (...args: number[]) => void;
  };
  const conv = exports.convBlock;
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

/** Standard base64 to bytes (atob is missing in an AudioWorkletGlobalScope). */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const clean = text.replace(/=+$/, "");
  const bytes = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let count = 0;
  let at = 0;
  for (let i = 0; i < clean.length; i++) {
    bits = (bits << 6) | alphabet.indexOf(clean[i]!);
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes[at++] = (bits >> count) & 0xff;
    }
  }
  return bytes;
}
