import { setFlagsFromString } from "node:v8";
import { overrideWasmAvailability, relaxedSimdAvailable } from "../nn/kernels/wasm/module.ts";

/**
 * Lets the training kernels use the relaxed-SIMD build of the wasm module (fused multiply-add, 1.2-1.3x on the
 * conv and dense inner products, `npm run bench -- fused`; see assembly/fma.ts). Node 20's V8 (11.3)
 * validates relaxed SIMD only with --experimental-wasm-relaxed-simd (V8 11.4, Node 22 and Chrome 114 turned it on by default), so this sets that
 * flag before any module is compiled; V8's flags are per process, so Worker threads see it too. Returns whether
 * the relaxed build is now available. The CLI, the bench and importing deepsp/node call it.
 */
export function enableRelaxedSimd(): boolean {
  if (!relaxedSimdAvailable()) {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
    overrideWasmAvailability(null);
  }
  return relaxedSimdAvailable();
}
