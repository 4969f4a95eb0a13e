import assert from "node:assert/strict";
import { jsKernels, useKernels, wasmKernels } from "../../src/nn/kernels/index.ts";
import type { Sequence } from "../../src/nn/layers/sequence.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { Rng, randomArray } from "./gradcheck.ts";

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
export function worstRatio(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/**
 * Every parameter's gradient from the fused kernel against float32 central differences (step 1e-2) of
 * loss = sum(y r) for a random r: within 2e-3 + 2e-3 |numeric|.
 */
export function checkFusedGradients(model: Model, input: Sequence, label: string): void {
  useKernels(wasmKernels);
  try {
    const y = model.forward(input);
    const r = Float32Array.from(randomArray(y.data.length, new Rng(41)));
    model.parameters.zeroGrads();
    model.backward({ ...y, data: r });
    const grads = Float32Array.from(model.parameters.grads);
    const loss = (): number => {
      const out = model.forward(input).data;
      let sum = 0;
      for (let i = 0; i < out.length; i++) sum += out[i]! * r[i]!;
      return sum;
    };
    const values = model.parameters.values;
    for (let i = 0; i < values.length; i++) {
      const saved = values[i]!;
      values[i] = saved + 1e-2;
      const plus = loss();
      const up = values[i]!;
      values[i] = saved - 1e-2;
      const minus = loss();
      const numeric = (plus - minus) / (up - values[i]!);
      values[i] = saved;
      assert.ok(
        Math.abs(numeric - grads[i]!) <= 2e-3 + 2e-3 * Math.abs(numeric),
        `${label} parameter ${i}: ${grads[i]} vs ${numeric}`,
      );
    }
  } finally {
    useKernels(null);
  }
}
