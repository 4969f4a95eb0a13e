import assert from "node:assert/strict";
import { test } from "node:test";
import { WasmScratch } from "../../../src/nn/kernels/wasm/scratch.ts";
import { WASM_BUILDS } from "../../helpers/wasm-builds.ts";

/*
 * The fast exp / sigmoid / tanh of assembly/fastmath.ts against Math in float64 on dense grids (every float32
 * step near 0 for tanh), asserting the maximum errors its header states: expV / sigmoidV / tanhV (kinds 0-2 of
 * fastMathInPlace), and the versions with the constants in registers (tableLoop, kinds 3-5) in both builds of
 * the module (their multiply-adds are fused in the relaxed one).
 */

const VARIANTS = [
  { name: "", first: 0, scratch: new WasmScratch(1 << 20, "simd") },
  ...WASM_BUILDS.map((build) => ({
    name: ` (table, ${build})`,
    first: 3,
    scratch: new WasmScratch(1 << 20, build),
  })),
];

function worstError(
  scratch: WasmScratch,
  kind: number,
  xs: Float32Array,
  exact: (x: number) => number,
): { abs: number; rel: number } {
  const mark = scratch.mark();
  const at = scratch.put(xs);
  scratch.exports["fastMathInPlace"]!(at, xs.length, kind);
  const out = new Float32Array(xs.length);
  scratch.get(at, out);
  scratch.release(mark);
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < xs.length; i++) {
    const want = exact(xs[i]!);
    assert.ok(Number.isFinite(out[i]!), `non-finite result at x = ${xs[i]}`);
    const error = Math.abs(out[i]! - want);
    abs = Math.max(abs, error);
    if (want !== 0) rel = Math.max(rel, error / Math.abs(want));
  }
  return { abs, rel };
}

function grid(lo: number, hi: number, count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
}

for (const { name, first, scratch } of VARIANTS) {
  test(`fast exp${name}: relative error <= 1e-7 over [-87, 88]; clamped, finite beyond`, () => {
    const { rel } = worstError(scratch, first, grid(-87, 88, 1_000_003), Math.exp);
    console.log(`exp${name}: max relative error ${rel.toExponential(2)}`);
    assert.ok(rel <= 1e-7, `exp relative error ${rel}`);
    // Beyond the clamps, e^x is e^(clamp) (the clamps are float32 constants): finite, positive, no NaN.
    const clamped = (x: number) => Math.exp(Math.min(Math.fround(88.3), Math.max(Math.fround(-87.3), x)));
    const far = Float32Array.of(-1e30, -1000, -100, 100, 1000, 1e30);
    assert.ok(worstError(scratch, first, far, clamped).rel <= 1e-7);
  });

  test(`fast sigmoid${name}: absolute error <= 1e-7 over [-40, 40] and at the extremes`, () => {
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    const { abs } = worstError(scratch, first + 1, grid(-40, 40, 1_000_003), sigmoid);
    console.log(`sigmoid${name}: max absolute error ${abs.toExponential(2)}`);
    assert.ok(abs <= 1e-7, `sigmoid absolute error ${abs}`);
    assert.ok(worstError(scratch, first + 1, Float32Array.of(-1e30, -200, 200, 1e30), sigmoid).abs <= 1e-7);
  });

  test(`fast tanh${name}: absolute error <= 1e-7 and relative <= 3e-7, including every float near 0`, () => {
    const near0 = Float32Array.from({ length: 400_001 }, (_, i) => (i - 200_000) * 1e-6);
    for (const xs of [grid(-20, 20, 1_000_003), near0, Float32Array.of(-1e30, -50, 1e-30, 50, 1e30)]) {
      const { abs, rel } = worstError(scratch, first + 2, xs, Math.tanh);
      console.log(
        `tanh${name}: max absolute error ${abs.toExponential(2)}, relative ${rel.toExponential(2)}`,
      );
      assert.ok(abs <= 1e-7, `tanh absolute error ${abs}`);
      assert.ok(rel <= 3e-7, `tanh relative error ${rel}`);
    }
  });
}
