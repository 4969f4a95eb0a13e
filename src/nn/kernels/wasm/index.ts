import type { Kernels } from "../types.ts";
import * as wasmActivations from "./activations.ts";
import * as wasmConv from "./conv.ts";
import * as wasmDense from "./dense.ts";
import * as wasmRecurrent from "./recurrent.ts";

/*
 * The WebAssembly SIMD training backend. Each kernel runs in wasm when its arrays are Float32Array (training)
 * and falls through to its JS twin for Float64Array (the float64 gradient checks run on the twins; the wasm
 * kernels are checked against them in float32). Kernels not yet ported run their JS twin.
 */
export const wasmKernels: Kernels = {
  name: "wasm",
  denseForward: wasmDense.denseForward,
  denseBackward: wasmDense.denseBackward,
  activationForward: wasmActivations.activationForward,
  activationBackward: wasmActivations.activationBackward,
  conv1dForward: wasmConv.conv1dForward,
  conv1dBackwardData: wasmConv.conv1dBackwardData,
  conv1dBackwardWeights: wasmConv.conv1dBackwardWeights,
  lstmForward: wasmRecurrent.lstmForward,
  lstmBackward: wasmRecurrent.lstmBackward,
  gruForward: wasmRecurrent.gruForward,
  gruBackward: wasmRecurrent.gruBackward,
  gatedForward: wasmActivations.gatedForward,
  gatedBackward: wasmActivations.gatedBackward,
};
