import * as jsActivations from "./js/activations.ts";
import * as jsConv from "./js/conv.ts";
import * as jsDense from "./js/dense.ts";
import * as jsGated from "./js/gated.ts";
import * as jsGru from "./js/gru.ts";
import * as jsLstm from "./js/lstm.ts";
import * as refActivations from "./reference/activations.ts";
import * as refConv from "./reference/conv.ts";
import * as refDense from "./reference/dense.ts";
import * as refGated from "./reference/gated.ts";
import * as refGru from "./reference/gru.ts";
import * as refLstm from "./reference/lstm.ts";
import type { Floats, Kernels } from "./types.ts";
import { wasmKernels } from "./wasm/index.ts";
import { resolveKernelBackend } from "./wasm/module.ts";

export * from "./types.ts";
export { wasmKernels };

/** The plain TypeScript kernels: the default backend, and what every faster backend is checked against. */
export const jsKernels: Kernels = {
  name: "js",
  denseForward: jsDense.denseForward,
  denseBackward: jsDense.denseBackward,
  activationForward: jsActivations.activationForward,
  activationBackward: jsActivations.activationBackward,
  conv1dForward: jsConv.conv1dForward,
  conv1dBackwardData: jsConv.conv1dBackwardData,
  conv1dBackwardWeights: jsConv.conv1dBackwardWeights,
  lstmForward: jsLstm.lstmForward,
  lstmBackward: jsLstm.lstmBackward,
  gruForward: jsGru.gruForward,
  gruBackward: jsGru.gruBackward,
  gatedForward: jsGated.gatedForward,
  gatedBackward: jsGated.gatedBackward,
};

/** The naive, obviously-correct twins (slow; tests only). */
export const referenceKernels: Kernels = {
  name: "reference",
  denseForward: refDense.denseForward,
  denseBackward: refDense.denseBackward,
  activationForward: refActivations.activationForward,
  activationBackward: refActivations.activationBackward,
  conv1dForward: refConv.conv1dForward,
  conv1dBackwardData: refConv.conv1dBackwardData,
  conv1dBackwardWeights: refConv.conv1dBackwardWeights,
  lstmForward: refLstm.lstmForward,
  lstmBackward: refLstm.lstmBackward,
  gruForward: refGru.gruForward,
  gruBackward: refGru.gruBackward,
  gatedForward: refGated.gatedForward,
  gatedBackward: refGated.gatedBackward,
};

let active: Kernels | null = null;

/**
 * The backend layers call: unless `useKernels` chose one, wasm SIMD where the engine has it and the kernel
 * backend setting (setKernelBackend / DEEPSP_KERNELS, ./wasm/module.ts) allows it, else the JS twins.
 */
export function kernels(): Kernels {
  return active ?? (resolveKernelBackend() === "wasm" ? wasmKernels : jsKernels);
}

/**
 * Whether a model may run as one fused wasm kernel (src/nn/kernels/wasm/tcn.ts, mlp.ts): float32 input and
 * parameters, and the wasm backend in use (not the JS twins, a test's wrapper or useKernels' choice).
 */
export function runsFused(input: Floats, parameters: Floats): boolean {
  return input instanceof Float32Array && parameters instanceof Float32Array && kernels() === wasmKernels;
}

/** Switches the backend for every layer (e.g. to the reference twins in tests); null returns to the default. */
export function useKernels(backend: Kernels | null): void {
  active = backend;
}
