import { DeepspError } from "../../../core/errors.ts";
import type { ActivationKind } from "../types.ts";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm.ts";

/*
 * The one WebAssembly SIMD module (assembly/*.ts, built into kernels-wasm.ts by `npm run build:wasm`): loading
 * and instantiating it. The module imports its memory, so each user brings its own: the streaming runtime a
 * fixed arena (src/runtime/wasm/kernels.ts), training a growable scratch memory (./scratch.ts). Decoding and
 * compiling are synchronous, so this works in an AudioWorklet too (no fetch, no atob, no async instantiate).
 */

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

/** Which implementation of the kernels (training and streaming) to use: `auto` is wasm SIMD where the engine supports it. */
export type KernelBackend = "auto" | "wasm" | "js";

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
 * The activation codes the wasm kernels switch on (assembly/activations.ts for training, assembly/stream.ts
 * for streaming, which adds exact float64 variants of its own).
 */
export const WASM_ACTIVATION_CODES: Readonly<Record<ActivationKind, number>> = {
  identity: 0,
  tanh: 1,
  sigmoid: 2,
  relu: 3,
  leakyRelu: 4,
  softsign: 5,
  silu: 6,
  hardtanh: 7,
};

/** The module's exported functions: every argument and result is an i32 address/size or an f32/f64 number. */
export type WasmExports = Record<string, (...args: number[]) => number>;

/** Instantiates the kernels module over `memory`. Throws when wasm SIMD is unavailable. */
export function instantiateWasmKernels(memory: WebAssembly.Memory): WasmExports {
  if (!wasmKernelsAvailable())
    throw new DeepspError("runtime/wasm", "WebAssembly SIMD is not available in this engine");
  compiled ??= new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64));
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as WasmExports;
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
