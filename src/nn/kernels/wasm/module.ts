import { DeepspError } from "../../../core/errors.ts";
import type { ActivationKind } from "../types.ts";
import { KERNELS_WASM_BASE64, KERNELS_WASM_RELAXED_BASE64 } from "./kernels-wasm.ts";

/*
 * The WebAssembly SIMD module (assembly/*.ts, built into kernels-wasm.ts by `npm run build:wasm`): loading and
 * instantiating it. It is built twice from the same sources: for SIMD 128 ("simd") and with relaxed SIMD
 * ("relaxed"), whose inner products use fused multiply-adds (assembly/fma.ts). Training uses the relaxed build
 * wherever the engine validates it (Chromium 114+, Node 22+, and Node 20 once src/node enables V8's flag) and
 * the SIMD 128 build otherwise; streaming always uses the SIMD 128 build, so a model streams bit for bit the
 * same in every engine. The module imports its memory, so each user brings its own: the streaming runtime a
 * fixed arena (src/runtime/wasm/kernels.ts), training a growable scratch memory (./scratch.ts). Decoding and
 * compiling are synchronous, so this works in an AudioWorklet too (no fetch, no atob, no async instantiate).
 */

/** The two builds of the kernels module: wasm SIMD 128, and SIMD 128 + relaxed SIMD (fused multiply-add). */
export type WasmBuild = "simd" | "relaxed";

/** (module (func (result v128) v128.const i32x4 0 0 0 0)): validates only where fixed-width SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01,
  0x00, 0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
]);

/** v128.const 0 (opcode and 16 zero bytes). */
const V128_ZERO = [0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/**
 * (module (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0)))): the header
 * and a () -> v128 function type as SIMD_PROBE, then a code section of one 59-byte body (no locals, three
 * v128.const, relaxed_madd = 0xfd 0x105 as LEB128, end).
 */
const RELAXED_PROBE = new Uint8Array(
  [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02,
    0x01,
  ].concat([0x00, 0x0a, 0x3d, 0x01, 0x3b, 0x00], V128_ZERO, V128_ZERO, V128_ZERO, [0xfd, 0x85, 0x02, 0x0b]),
);

let available: boolean | null = null;
let relaxed: boolean | null = null;
const compiled = new Map<WasmBuild, WebAssembly.Module>();

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

/**
 * Whether this engine runs relaxed SIMD (checked once; `overrideWasmAvailability(null)` checks again, as
 * src/node does after setting Node 20's V8 flag).
 */
export function relaxedSimdAvailable(): boolean {
  relaxed ??= wasmKernelsAvailable() && WebAssembly.validate(RELAXED_PROBE);
  return relaxed;
}

let trainingBuild: WasmBuild | "auto" = "auto";

/**
 * Picks the build the training kernels use: "auto" (the default) is relaxed where the engine runs it, else
 * simd; asking for relaxed where it is unavailable gives simd. The environment variable DEEPSP_WASM_BUILD=simd
 * sets the same where `process` exists (e.g. to measure both builds).
 */
export function setTrainingWasmBuild(build: WasmBuild | "auto"): void {
  trainingBuild = build;
}

/** The build the training kernels use now (see setTrainingWasmBuild). */
export function trainingWasmBuild(): WasmBuild {
  let choice = trainingBuild;
  if (choice === "auto") {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const value = env?.["DEEPSP_WASM_BUILD"];
    choice = value === "simd" || value === "relaxed" ? value : "relaxed";
  }
  return choice === "relaxed" && relaxedSimdAvailable() ? "relaxed" : "simd";
}

/** Pretends this engine has (true) or lacks (false) wasm SIMD, or checks again (null): for fallback tests. */
export function overrideWasmAvailability(value: boolean | null): void {
  available = value;
  relaxed = null;
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

/** Instantiates a build of the kernels module over `memory`. Throws when the engine cannot run that build. */
export function instantiateWasmKernels(memory: WebAssembly.Memory, build: WasmBuild = "simd"): WasmExports {
  if (!wasmKernelsAvailable())
    throw new DeepspError("runtime/wasm", "WebAssembly SIMD is not available in this engine");
  if (build === "relaxed" && !relaxedSimdAvailable())
    throw new DeepspError("runtime/wasm", "WebAssembly relaxed SIMD is not available in this engine");
  let module = compiled.get(build);
  if (module === undefined) {
    const base64 = build === "relaxed" ? KERNELS_WASM_RELAXED_BASE64 : KERNELS_WASM_BASE64;
    module = new WebAssembly.Module(decodeBase64(base64));
    compiled.set(build, module);
  }
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as WasmExports;
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
