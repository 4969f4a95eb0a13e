import { test } from "node:test";
import { setTrainingWasmBuild, type WasmBuild } from "../../src/nn/kernels/wasm/module.ts";
import { enableRelaxedSimd } from "../../src/node/wasm.ts";

enableRelaxedSimd();

/** The two builds of the wasm module (src/nn/kernels/wasm/module.ts). */
export const WASM_BUILDS: readonly WasmBuild[] = ["simd", "relaxed"];

/**
 * Registers `name` once per build of the training kernels (SIMD 128, and relaxed SIMD with fused
 * multiply-adds), each run with that build selected.
 */
export function testEachBuild(name: string, fn: () => void | Promise<void>): void {
  for (const build of WASM_BUILDS) {
    test(`${name} [${build}]`, async () => {
      setTrainingWasmBuild(build);
      try {
        await fn();
      } finally {
        setTrainingWasmBuild("auto");
      }
    });
  }
}
