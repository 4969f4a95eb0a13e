/*
 * Fast exp, sigmoid and tanh on f32x4 (and on single floats through the same code), for the training kernels
 * and the opt-in fast inference path. exp follows Cephes expf: e^x = 2^n e^r with n = round(x log2 e),
 * r = x - n ln 2 (ln 2 split in two for an exact reduction), |r| <= ln2 / 2, and e^r = 1 + r + r^2 P(r) with
 * Cephes' degree-5 P; 2^n is built in the exponent bits. Inputs are clamped to [-87.3, 88.3] so 2^n stays a
 * normal float (no inf/NaN from finite input). Measured maximum errors against Math.exp/tanh in float64
 * (test/nn/kernels/wasm-fastmath.test.ts asserts them): exp relative 8e-8, sigmoid absolute 9e-8, tanh
 * absolute 1e-7 and relative 1e-6 (where |x| < 0.1 tanh is its Taylor series to x^7, so that the relative error
 * stays small near 0). Math.tanh / Math.exp in float32 round to 6e-8 relative, so these are a few ulps.
 */

const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

// @ts-ignore: decorator (AssemblyScript)
@inline
export function expV(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  const er = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(er, scale);
}

/** 1 / (1 + e^-x). */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function sigmoidV(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(x))));
}

/** tanh x = sign(x) (1 - 2 / (e^{2|x|} + 1)); the Taylor series to x^7 where |x| < 0.1 keeps the relative error small. */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function tanhV(x: v128): v128 {
  const a = f32x4.abs(x);
  const e = expV(f32x4.add(a, a));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const x2 = f32x4.mul(x, x);
  let q = f32x4.add(f32x4.mul(x2, f32x4.splat(-17.0 / 315.0)), f32x4.splat(2.0 / 15.0));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(-1.0 / 3.0));
  const small = f32x4.add(x, f32x4.mul(f32x4.mul(x, x2), q));
  // Copy the sign of x onto `big`, then pick the series where |x| < 0.1.
  const signed = v128.or(v128.and(big, i32x4.splat(0x7fffffff)), v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(a, f32x4.splat(0.1)));
}

// @ts-ignore: decorator (AssemblyScript)
@inline
export function expS(x: f32): f32 {
  return f32x4.extract_lane(expV(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator (AssemblyScript)
@inline
export function sigmoidS(x: f32): f32 {
  return f32x4.extract_lane(sigmoidV(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator (AssemblyScript)
@inline
export function tanhS(x: f32): f32 {
  return f32x4.extract_lane(tanhV(f32x4.splat(x)), 0);
}

/** In place over `count` floats at `p` (16-byte aligned): kind 0 exp, 1 sigmoid, 2 tanh. For tests and activations. */
export function fastMathInPlace(p: usize, count: i32, kind: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const at = p + ((<usize>i) << 2);
    const x = v128.load(at);
    v128.store(at, kind === 0 ? expV(x) : kind === 1 ? sigmoidV(x) : tanhV(x));
  }
  for (; i < count; i++) {
    const at = p + ((<usize>i) << 2);
    const x = load<f32>(at);
    store<f32>(at, kind === 0 ? expS(x) : kind === 1 ? sigmoidS(x) : tanhS(x));
  }
}
