import assert from "node:assert/strict";
import { Rng } from "../../src/core/rng.ts";

/** Uniform random Float64Array in [-scale, scale). */
export function randomArray(length: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length }, () => rng.uniform(-scale, scale));
}

export interface Checked {
  name: string;
  /** The values the loss reads; perturbed in place (and restored) by the check. */
  values: Float64Array;
  /** The analytic gradient of the loss with respect to `values`. */
  grad: Float64Array;
}

/**
 * Compares analytic gradients with float64 central finite differences,
 * (L(v + eps) - L(v - eps)) / (2 eps), for every element of every checked array (keep shapes small).
 * Passes when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|) everywhere.
 */
export function gradcheck(
  loss: () => number,
  checked: readonly Checked[],
  options: { eps?: number; atol?: number; rtol?: number } = {},
): void {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-7;
  const rtol = options.rtol ?? 1e-5;
  for (const { name, values, grad } of checked) {
    assert.equal(grad.length, values.length, `${name}: gradient length`);
    for (let i = 0; i < values.length; i++) {
      const saved = values[i]!;
      values[i] = saved + eps;
      const plus = loss();
      values[i] = saved - eps;
      const minus = loss();
      values[i] = saved;
      const numeric = (plus - minus) / (2 * eps);
      const analytic = grad[i]!;
      const bound = atol + rtol * Math.max(Math.abs(analytic), Math.abs(numeric));
      if (!(Math.abs(analytic - numeric) <= bound)) {
        assert.fail(
          `${name}[${i}]: analytic ${analytic} vs numeric ${numeric} (|diff| ${Math.abs(analytic - numeric)} > ${bound})`,
        );
      }
    }
  }
}

/**
 * Float32 central differences (step 1e-2, divided by the step the float32 values really took) against the
 * gradients of the float32 kernels: |analytic - numeric| <= tolerance (1 + |numeric|) for every element of
 * every checked array.
 */
export function checkFloat32Differences(
  loss: () => number,
  checked: readonly { name: string; values: Float32Array; grad: ArrayLike<number> }[],
  tolerance: number,
): void {
  for (const { name, values, grad } of checked) {
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
        Math.abs(numeric - grad[i]!) <= tolerance * (1 + Math.abs(numeric)),
        `${name}[${i}]: ${grad[i]} vs ${numeric}`,
      );
    }
  }
}

/** sum_i weights[i] * y[i]: a scalar whose gradient with respect to y is `weights`. */
export function weightedSum(y: ArrayLike<number>, weights: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i]! * weights[i]!;
  return sum;
}

/** Asserts two arrays agree elementwise within atol + rtol * |expected|. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  options: { atol?: number; rtol?: number; what?: string } = {},
): void {
  const atol = options.atol ?? 1e-6;
  const rtol = options.rtol ?? 1e-6;
  const what = options.what ?? "array";
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}[${i}]: ${a} vs expected ${e} (|diff| ${Math.abs(a - e)})`);
    }
  }
}

export { Rng };
