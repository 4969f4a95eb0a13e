import assert from "node:assert/strict";
import { jsKernels, runsFused, useKernels, wasmKernels } from "../../src/nn/kernels/index.ts";
import type { Sequence } from "../../src/nn/layers/sequence.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { checkFloat32Differences, Rng, randomArray, weightedSum } from "./gradcheck.ts";

/*
 * Helpers for the models that train as one fused wasm kernel in float32 (TcnModel, MlpModel): the fused run
 * against the layers with the JS kernels (the twin), and float32 central differences.
 */

/** Output and gradients of one forward and backward pass (random dy), with the fused kernel or the JS layers. */
export function passes(
  model: Model,
  input: Sequence,
  fused: boolean,
  seed: number,
): { y: Float32Array; grads: Float32Array } {
  useKernels(fused ? wasmKernels : jsKernels);
  try {
    // The models take the fused path exactly when runsFused says so: the two runs are not the same path.
    assert.equal(runsFused(input.data, model.parameters.values), fused);
    const y = model.forward(input);
    const dy = Float32Array.from(randomArray(y.data.length, new Rng(seed)));
    model.parameters.zeroGrads();
    model.backward({ ...y, data: dy });
    return { y: Float32Array.from(y.data), grads: Float32Array.from(model.parameters.grads) };
  } finally {
    useKernels(null);
  }
}

/** max |a - b| / max |b|. */
function worstRatio(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/**
 * Every parameter's gradient from the fused kernel against float32 central differences of loss = sum(y r)
 * for a random r: within 2e-3 (1 + |numeric|).
 */
export function checkFusedGradients(model: Model, input: Sequence, label: string): void {
  useKernels(wasmKernels);
  try {
    assert.ok(runsFused(input.data, model.parameters.values), `${label}: not on the fused path`);
    const y = model.forward(input);
    const r = Float32Array.from(randomArray(y.data.length, new Rng(41)));
    model.parameters.zeroGrads();
    model.backward({ ...y, data: r });
    const grads = Float32Array.from(model.parameters.grads);
    const loss = (): number => weightedSum(model.forward(input).data, r);
    const values = model.parameters.values as Float32Array;
    checkFloat32Differences(loss, [{ name: `${label} parameter`, values, grad: grads }], 2e-3);
  } finally {
    useKernels(null);
  }
}

/**
 * Runs every case fused and with its twin (`run(i, fused)`), asserting outputs within 4e-6 and gradients
 * within 1e-5 of the twin's largest, and prints the worst ratios.
 */
export function compareWithTwin(
  label: string,
  cases: readonly unknown[],
  run: (index: number, fused: boolean) => { y: Float32Array; grads: Float32Array },
): void {
  let worstY = 0;
  let worstGrad = 0;
  cases.forEach((c, i) => {
    const fused = run(i, true);
    const twin = run(i, false);
    assert.equal(fused.y.length, twin.y.length);
    const y = worstRatio(fused.y, twin.y);
    const grads = worstRatio(fused.grads, twin.grads);
    const what = JSON.stringify(c);
    assert.ok(y <= 4e-6, `${what}: outputs differ by ${y} of the largest`);
    assert.ok(grads <= 1e-5, `${what}: gradients differ by ${grads} of the largest`);
    worstY = Math.max(worstY, y);
    worstGrad = Math.max(worstGrad, grads);
  });
  console.log(
    `${label} vs JS layers, worst |diff| / max: outputs ${worstY.toExponential(2)}, gradients ${worstGrad.toExponential(2)}`,
  );
}

/**
 * Counts calls of a fused kernel class's forward and backward while `work` runs (so a test sees that the model
 * went through the fused kernel, not its layers).
 */
export function countFusedCalls(
  kernel: { prototype: { forward: (...a: never[]) => unknown; backward: (...a: never[]) => unknown } },
  work: () => void,
): { forward: number; backward: number } {
  const calls = { forward: 0, backward: 0 };
  const { forward, backward } = kernel.prototype;
  kernel.prototype.forward = function (this: unknown, ...a: never[]) {
    calls.forward++;
    return forward.apply(this, a);
  };
  kernel.prototype.backward = function (this: unknown, ...a: never[]) {
    calls.backward++;
    return backward.apply(this, a);
  };
  try {
    work();
  } finally {
    kernel.prototype.forward = forward;
    kernel.prototype.backward = backward;
  }
  return calls;
}
