/*
 * Fast float32 exp, sigmoid and tanh on f32x4, for the training kernels (assembly/recurrent.ts,
 * assembly/activations.ts) and the tests. exp follows Cephes expf: e^x = 2^n e^r with n = round(x log2 e),
 * r = x - n ln 2 (ln 2 in two parts, so the reduction is exact), |r| <= ln2 / 2, e^r = 1 + r + r^2 P(r) with
 * Cephes' degree-5 P; 2^n is built in the exponent bits. Written for V8's code generator: the clamps are
 * pmin / pmax (one instruction each; wasm's min / max need ~7 for their NaN and -0 rules) and n comes from
 * adding 1.5 * 2^23 (round to nearest even), whose low mantissa bits then give 2^n without a float-to-int
 * conversion. Inputs are clamped to [-87.3, 88.3], so 2^n stays a normal float (no inf/NaN from finite input).
 * tanh x = sign(x) m / (m + 2) with m = e^{2|x|} - 1 computed as 2^n (e^r - 1) + (2^n - 1): no cancellation near
 * 0, no series branch.
 *
 * Measured maximum errors against Math in float64 (test/nn/kernels/wasm-fastmath.test.ts asserts them): exp
 * relative 8e-8, sigmoid absolute 9e-8, tanh absolute 9e-8 and relative 2e-7: a few float32 ulps.
 * assembly/stream.ts runs the same operations with its constants read from a table (the streaming loops are
 * hot enough that V8 rebuilding each v128 constant at every use shows).
 */

const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
/** 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer, held in the low mantissa bits. */
const ROUNDER: f32 = 12582912.0;

/** e^r - 1 for |r| <= ln2 / 2: r + r^2 P(r). */
// @ts-ignore: decorator (AssemblyScript)
@inline
function expm1Reduced(r: v128): v128 {
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  return f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r);
}

/** x - n ln 2 for n = round(x log2 e) held in t = x log2 e + ROUNDER. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function reduce(x: v128, t: v128): v128 {
  const n = f32x4.sub(t, f32x4.splat(ROUNDER));
  const r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  return f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
}

/** 2^n from t (its low mantissa bits hold n): (n + 127) << 23. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function twoToN(t: v128): v128 {
  return i32x4.shl(i32x4.sub(t, i32x4.splat(0x4b400000 - 127)), 23);
}

// @ts-ignore: decorator (AssemblyScript)
@inline
export function expV(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUNDER));
  return f32x4.mul(f32x4.add(expm1Reduced(reduce(x, t)), f32x4.splat(1)), twoToN(t));
}

/** 1 / (1 + e^-x). */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function sigmoidV(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(x))));
}

/** e^{2|x|} - 1, with 2|x| clamped to 20 (where tanh is 1 in float32: m <= 5e8, products of a few stay finite). */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function tanhM(x: v128): v128 {
  const a = f32x4.abs(x);
  const y = f32x4.pmin(f32x4.add(a, a), f32x4.splat(20));
  const t = f32x4.add(f32x4.mul(y, f32x4.splat(LOG2E)), f32x4.splat(ROUNDER));
  const scale = twoToN(t);
  return f32x4.add(f32x4.mul(scale, expm1Reduced(reduce(y, t))), f32x4.sub(scale, f32x4.splat(1)));
}

/** sign(x) m / (m + 2), m = tanhM(x). */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function tanhV(x: v128): v128 {
  const m = tanhM(x);
  return v128.or(f32x4.div(m, f32x4.add(m, f32x4.splat(2))), v128.and(x, i32x4.splat(0x80000000)));
}

/** In place over `count` floats at `p` (16-byte aligned): kind 0 exp, 1 sigmoid, 2 tanh. For the tests. */
export function fastMathInPlace(p: usize, count: i32, kind: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const at = p + ((<usize>i) << 2);
    const x = v128.load(at);
    v128.store(at, kind === 0 ? expV(x) : kind === 1 ? sigmoidV(x) : tanhV(x));
  }
  for (; i < count; i++) {
    const at = p + ((<usize>i) << 2);
    const x = f32x4.splat(load<f32>(at));
    store<f32>(at, f32x4.extract_lane(kind === 0 ? expV(x) : kind === 1 ? sigmoidV(x) : tanhV(x), 0));
  }
}
