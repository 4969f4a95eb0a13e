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
 *
 * The *R variants at the end take their constants as arguments, for loops that keep them in registers.
 */

import { madd } from "./fma";

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

/**
 * In place over `count` floats at `p` (16-byte aligned), for the tests: kind 0 exp, 1 sigmoid, 2 tanh; 3, 4, 5
 * the same with the table's constants (tableLoop).
 */
export function fastMathInPlace(p: usize, count: i32, kind: i32): void {
  if (kind >= 3) {
    if (kind === 3) tableLoop(p, p, count, TABLE_EXP);
    else if (kind === 4) tableLoop(p, p, count, TABLE_SIGMOID);
    else tableLoop(p, p, count, TABLE_TANH);
    return;
  }
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

// ---- constants in registers --------------------------------------------------------------------------------
//
// V8 (Node 20) rebuilds a v128.const from immediates at every use (three or four instructions, inside the loop)
// and binaryen folds a splat of a constant back into its uses, so a loop of exps spends more instructions on
// constants than on arithmetic. A kernel that can spare the registers loads the constants from a table once,
// before its loop (loads are not folded), and passes them to the functions below, which also evaluate P by
// Estrin's scheme with multiply-adds (fused in the relaxed build): a shorter dependency chain. tanh over
// 4096 x 64, staging copies included, went from 0.45-0.57 to 0.35-0.39 ms this way (`node --import tsx
// bench/train/conv-kernels.ts kernels`). Same reduction and polynomial as above: errors within those bounds
// (test/nn/kernels/wasm-fastmath.test.ts, both builds).

/** Byte offsets in the table written by fastMathTable (one f32 each, loaded with load32_splat). */
export const T_LO: usize = 0;
export const T_HI: usize = 4;
export const T_LOG2E: usize = 8;
export const T_ROUNDER: usize = 12;
export const T_NLN2_HI: usize = 16;
export const T_NLN2_LO: usize = 20;
export const T_P: usize = 24; // ..T_P + 20: P's coefficients, highest first
export const T_ONE: usize = 48;
export const T_TWO: usize = 52;
export const T_BIAS: usize = 56;
export const T_TANH_HI: usize = 60;
/** Bytes of the table. */
export const FAST_MATH_TABLE_BYTES: i32 = 64;

let table: usize = 0;

/** Writes the constants at `at` (FAST_MATH_TABLE_BYTES, 4-byte aligned) for the kernels of this instance. */
export function fastMathTable(at: usize): void {
  table = at;
  store<f32>(at + T_LO, -87.3);
  store<f32>(at + T_HI, 88.3);
  store<f32>(at + T_LOG2E, LOG2E);
  store<f32>(at + T_ROUNDER, ROUNDER);
  store<f32>(at + T_NLN2_HI, -LN2_HI);
  store<f32>(at + T_NLN2_LO, -LN2_LO);
  store<f32>(at + T_P, 1.9875691500e-4);
  store<f32>(at + T_P + 4, 1.3981999507e-3);
  store<f32>(at + T_P + 8, 8.3334519073e-3);
  store<f32>(at + T_P + 12, 4.1665795894e-2);
  store<f32>(at + T_P + 16, 1.6666665459e-1);
  store<f32>(at + T_P + 20, 5.0000001201e-1);
  store<f32>(at + T_ONE, 1);
  store<f32>(at + T_TWO, 2);
  store<i32>(at + T_BIAS, 0x4b400000 - 127);
  store<f32>(at + T_TANH_HI, 20);
}

/** The table's address (fastMathTable). */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function fastMathTableAt(): usize {
  return table;
}

/** e^r - 1 = r + r^2 P(r), P by Estrin: (p0 r + p1) r^4 + (p2 r + p3) r^2 + (p4 r + p5). */
// @ts-ignore: decorator (AssemblyScript)
@inline
function expm1R(r: v128, p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128): v128 {
  const r2 = f32x4.mul(r, r);
  const p = madd(madd(madd(p0, r, p1), r2, madd(p2, r, p3)), r2, madd(p4, r, p5));
  return madd(p, r2, r);
}

/** e^x for x already clamped to [-87.3, 88.3]; constants from the table (see above). */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function expR(
  x: v128,
  log2e: v128,
  rounder: v128,
  nln2hi: v128,
  nln2lo: v128,
  p0: v128,
  p1: v128,
  p2: v128,
  p3: v128,
  p4: v128,
  p5: v128,
  one: v128,
  bias: v128,
): v128 {
  const t = madd(x, log2e, rounder);
  const n = f32x4.sub(t, rounder);
  const r = madd(n, nln2lo, madd(n, nln2hi, x));
  return f32x4.mul(f32x4.add(expm1R(r, p0, p1, p2, p3, p4, p5), one), i32x4.shl(i32x4.sub(t, bias), 23));
}

/** e^y - 1 for y = min(2|x|, 20) (tanhM with the table's constants). */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function tanhMR(
  x: v128,
  tanhHi: v128,
  log2e: v128,
  rounder: v128,
  nln2hi: v128,
  nln2lo: v128,
  p0: v128,
  p1: v128,
  p2: v128,
  p3: v128,
  p4: v128,
  p5: v128,
  one: v128,
  bias: v128,
): v128 {
  const a = f32x4.abs(x);
  const y = f32x4.pmin(f32x4.add(a, a), tanhHi);
  const t = madd(y, log2e, rounder);
  const n = f32x4.sub(t, rounder);
  const r = madd(n, nln2lo, madd(n, nln2hi, y));
  const scale = i32x4.shl(i32x4.sub(t, bias), 23);
  return madd(scale, expm1R(r, p0, p1, p2, p3, p4, p5), f32x4.sub(scale, one));
}

/** 1 / (1 + e^-x) with the table's constants. */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function sigmoidR(
  x: v128,
  lo: v128,
  hi: v128,
  log2e: v128,
  rounder: v128,
  nln2hi: v128,
  nln2lo: v128,
  p0: v128,
  p1: v128,
  p2: v128,
  p3: v128,
  p4: v128,
  p5: v128,
  one: v128,
  bias: v128,
): v128 {
  const e = expR(
    f32x4.pmin(f32x4.pmax(f32x4.neg(x), lo), hi),
    log2e,
    rounder,
    nln2hi,
    nln2lo,
    p0,
    p1,
    p2,
    p3,
    p4,
    p5,
    one,
    bias,
  );
  return f32x4.div(one, f32x4.add(one, e));
}

/** sign(x) m / (m + 2), m = tanhMR(x): tanh with the table's constants (the sign is x xor |x|). */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function tanhR(
  x: v128,
  tanhHi: v128,
  two: v128,
  log2e: v128,
  rounder: v128,
  nln2hi: v128,
  nln2lo: v128,
  p0: v128,
  p1: v128,
  p2: v128,
  p3: v128,
  p4: v128,
  p5: v128,
  one: v128,
  bias: v128,
): v128 {
  const m = tanhMR(x, tanhHi, log2e, rounder, nln2hi, nln2lo, p0, p1, p2, p3, p4, p5, one, bias);
  return v128.or(f32x4.div(m, f32x4.add(m, two)), v128.xor(x, f32x4.abs(x)));
}

/** tableLoop's functions. */
export const TABLE_EXP = 0;
export const TABLE_SIGMOID = 1;
export const TABLE_TANH = 2;
export const TABLE_GATE = 3;

/**
 * y[i] = f(x[i]) for i < count (y may be x) with the table's constants: f = exp (of x clamped to [-87.3, 88.3]),
 * sigmoid or tanh, by `kind` (a constant at each call site, so each inlined copy has one branch-free loop);
 * TABLE_GATE, WaveNet's gate: y[i] = tanh(x[i]), y2[i] = sigmoid(x2[i]), y3[i] = y[i] y2[i]. Four floats at a
 * time, then one at a time in lane 0.
 */
// @ts-ignore: decorator (AssemblyScript)
@inline
export function tableLoop(
  y: usize,
  x: usize,
  count: i32,
  kind: i32,
  y2: usize = 0,
  x2: usize = 0,
  y3: usize = 0,
): void {
  const k = fastMathTableAt();
  const lo = v128.load32_splat(k + T_LO);
  const hi = v128.load32_splat(k + T_HI);
  const log2e = v128.load32_splat(k + T_LOG2E);
  const rounder = v128.load32_splat(k + T_ROUNDER);
  const nln2hi = v128.load32_splat(k + T_NLN2_HI);
  const nln2lo = v128.load32_splat(k + T_NLN2_LO);
  const p0 = v128.load32_splat(k + T_P);
  const p1 = v128.load32_splat(k + T_P + 4);
  const p2 = v128.load32_splat(k + T_P + 8);
  const p3 = v128.load32_splat(k + T_P + 12);
  const p4 = v128.load32_splat(k + T_P + 16);
  const p5 = v128.load32_splat(k + T_P + 20);
  const one = v128.load32_splat(k + T_ONE);
  const two = v128.load32_splat(k + T_TWO);
  const bias = v128.load32_splat(k + T_BIAS);
  const tanhHi = v128.load32_splat(k + T_TANH_HI);
  for (let i = 0; i < count; ) {
    const at = (<usize>i) << 2;
    const whole = i + 4 <= count;
    const v = whole ? v128.load(x + at) : f32x4.splat(load<f32>(x + at));
    let r: v128;
    if (kind === TABLE_EXP) {
      const c = f32x4.pmin(f32x4.pmax(v, lo), hi);
      r = expR(c, log2e, rounder, nln2hi, nln2lo, p0, p1, p2, p3, p4, p5, one, bias);
    } else if (kind === TABLE_SIGMOID)
      r = sigmoidR(v, lo, hi, log2e, rounder, nln2hi, nln2lo, p0, p1, p2, p3, p4, p5, one, bias);
    else r = tanhR(v, tanhHi, two, log2e, rounder, nln2hi, nln2lo, p0, p1, p2, p3, p4, p5, one, bias);
    if (kind === TABLE_GATE) {
      const b = whole ? v128.load(x2 + at) : f32x4.splat(load<f32>(x2 + at));
      const s = sigmoidR(b, lo, hi, log2e, rounder, nln2hi, nln2lo, p0, p1, p2, p3, p4, p5, one, bias);
      const g = f32x4.mul(r, s);
      if (whole) {
        v128.store(y2 + at, s);
        v128.store(y3 + at, g);
      } else {
        store<f32>(y2 + at, f32x4.extract_lane(s, 0));
        store<f32>(y3 + at, f32x4.extract_lane(g, 0));
      }
    }
    if (whole) v128.store(y + at, r);
    else store<f32>(y + at, f32x4.extract_lane(r, 0));
    i += whole ? 4 : 1;
  }
}
