import * as jsActivations from "../js/activations.ts";
import * as jsConv from "../js/conv.ts";
import * as jsDense from "../js/dense.ts";
import * as jsGated from "../js/gated.ts";
import * as jsGru from "../js/gru.ts";
import * as jsLstm from "../js/lstm.ts";
import type { Kernels } from "../types.ts";

/*
 * The WebAssembly SIMD training backend. Each kernel runs in wasm when its arrays are Float32Array (training)
 * and falls through to its JS twin for Float64Array (the float64 gradient checks run on the twins; the wasm
 * kernels are checked against them in float32). Kernels not yet ported run their JS twin.
 */
export const wasmKernels: Kernels = {
  name: "wasm",
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
