/*
 * The multiply-add of the training kernels' inner products. The module is built twice (scripts/build-wasm.ts):
 * with wasm SIMD 128 only, where a * b + c is a multiply and an add (two roundings), and with relaxed SIMD,
 * where it is f32x4.relaxed_madd, which V8 compiles to one fused multiply-add (one rounding) on CPUs with FMA.
 * Zen 4 issues two of either per cycle, so the peak is the same; what FMA saves is instructions: the TCN's conv
 * runs at 37 GFLOP/s with multiply + add and 45 with FMA, the MLP's dense forward at 39 and 52 (V8 11.3,
 * `npm run bench -- fused`), because the front end, not the FP pipes, was the limit. The inner products and
 * the fast exp's register-held variants (./fastmath.ts *R) use it; expV / tanhV / sigmoidV and the streaming
 * kernels compute the same in both builds.
 */

/** a * b + c on f32x4 lanes: fused in the relaxed-SIMD build, multiply then add otherwise. */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
