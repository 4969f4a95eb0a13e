/*
 * Element-wise training kernels on f32x4: the WaveNet gate and the activations of src/nn/kernels/types.ts
 * (AssemblyScript; pointers are byte addresses in the scratch memory, counts are floats). Twins:
 * src/nn/kernels/js/{gated,activations}.ts.
 *
 * tanh, sigmoid, silu and the gate use a fast exp (allowed for training, where the JS twins' exact Math.tanh /
 * Math.exp cost ~10 ns each): e^x = 2^(x log2 e), 2^t = 2^round(t) 2^f with a degree-6 minimax polynomial for
 * 2^f, f in [-1/2, 1/2] (relative error 1.9e-9 in exact arithmetic, 1e-7 evaluated in float32, plus the
 * rounding of x log2 e, |x| 6e-8 relative). tanh(x) = (e^2x - 1) / (e^2x + 1) and sigmoid(x) = 1 / (1 + e^-x) then
 * stay within ~2e-7 absolute of the exact functions (where the rounding of x log2 e grows with |x| they are
 * saturated: the error is scaled by sigmoid'(x) ~ e^-|x|); test/nn/kernels/wasm-activations.test.ts asserts
 * it. fastmath.ts expV is ~2.5x slower here: V8 lowers its NaN-exact f32x4.min/max clamps and its saturating
 * float-to-int conversion to ~7 instructions each (pmin/pmax and a 1.5 * 2^23 rounding constant are one or two),
 * and the gate ran at ~4.5 ns per sample with it against ~1.5 with this.
 *
 * Everything else equals the JS twin bit for bit: single float32 operations (max, min, add, compare) round the
 * same as the twin's double arithmetic rounded to float32, and the multi-operation formulas (leaky ReLU's
 * alpha x, softsign, and every backward dy f'(x) product) run in float64 lanes exactly as the twin writes
 * them, then round once.
 */
const LOG2E: f32 = 1.4426950408889634;
const ROUNDER: f32 = 12582912; // 1.5 * 2^23: (t + ROUNDER) holds round(t) in its low mantissa bits

/**
 * 2^t for t in [-125, 126] (clamped): n = round(t), f = t - n, 2^f by a degree-6 minimax polynomial. pmax / pmin
 * pass NaN through (a < b is false), and a quiet NaN's bits leave 2^n's shift at 0: NaN in, NaN out.
 */
// @ts-ignore: decorator (AssemblyScript)
@inline
function exp2Fast(t: v128): v128 {
  t = f32x4.pmin(f32x4.pmax(t, f32x4.splat(-125)), f32x4.splat(126));
  const shifted = f32x4.add(t, f32x4.splat(ROUNDER));
  const f = f32x4.sub(t, f32x4.sub(shifted, f32x4.splat(ROUNDER)));
  let p = f32x4.splat(1.5345811966493097e-4);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.3399931384833789e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(9.618488958692821e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(5.550328776557279e-2));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(2.4022646890605975e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(6.931472057374536e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.0000000005541716));
  // 2^n: bits(shifted) - bits(ROUNDER) = n, moved into the exponent field of p (in [0.7, 1.42]: stays normal).
  return i32x4.add(p, i32x4.shl(i32x4.sub(shifted, i32x4.splat(0x4b400000)), 23));
}

/** 1 / (1 + e^-x) (fast). */
// @ts-ignore: decorator (AssemblyScript)
@inline
function sigmoidV(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp2Fast(f32x4.mul(x, f32x4.splat(-LOG2E)))));
}

/** (e^2x - 1) / (e^2x + 1) (fast; -1 and 1 where e^2x reaches the clamps). Near 0, e^2x - 1 is exact. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function tanhV(x: v128): v128 {
  const one = f32x4.splat(1);
  const e = exp2Fast(f32x4.mul(x, f32x4.splat(2 * LOG2E)));
  return f32x4.div(f32x4.sub(e, one), f32x4.add(e, one));
}

/**
 * tanh(a) sigmoid(b) = (e^2a - 1) / ((e^2a + 1)(1 + e^-b)): one division. e^2a is capped at 2^30 (tanh is 1 in
 * float32 from a = 9 on) so that the product overflows only where sigmoid(b) < 2^-96, giving 0.
 */
// @ts-ignore: decorator (AssemblyScript)
@inline
function gateV(a: v128, b: v128): v128 {
  const one = f32x4.splat(1);
  const ea = exp2Fast(f32x4.pmin(f32x4.mul(a, f32x4.splat(2 * LOG2E)), f32x4.splat(30)));
  const eb = exp2Fast(f32x4.mul(b, f32x4.splat(-LOG2E)));
  return f32x4.div(f32x4.sub(ea, one), f32x4.mul(f32x4.add(ea, one), f32x4.add(one, eb)));
}

/** Activation kinds, in the order of the wrapper's table (src/nn/kernels/wasm/activations.ts). */
const TANH = 1;
const SIGMOID = 2;
const RELU = 3;
const LEAKY = 4;
const SOFTSIGN = 5;
const SILU = 6;
const HARDTANH = 7;

/** Float64 lanes 0-1 of a f32x4. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function lo(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Float64 lanes 2-3 of a f32x4. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function hi(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1));
}

/** Two f64x2 rounded back into one f32x4 (l in lanes 0-1, h in 2-3). */
// @ts-ignore: decorator (AssemblyScript)
@inline
function join(l: v128, h: v128): v128 {
  return f32x4.shuffle(f32x4.demote_f64x2_zero(l), f32x4.demote_f64x2_zero(h), 0, 1, 4, 5);
}

/** leakyRelu in float64 lanes: x > 0 ? x : alpha x. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function leaky2(x: v128, alpha: v128): v128 {
  return v128.bitselect(x, f64x2.mul(alpha, x), f64x2.gt(x, f64x2.splat(0)));
}

/** softsign in float64 lanes: x / (1 + |x|). */
// @ts-ignore: decorator (AssemblyScript)
@inline
function softsign2(x: v128): v128 {
  return f64x2.div(x, f64x2.add(f64x2.splat(1), f64x2.abs(x)));
}

/** f(x) for four lanes. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function forward4(x: v128, kind: i32, alpha: v128): v128 {
  if (kind === TANH) return tanhV(x);
  if (kind === SIGMOID) return sigmoidV(x);
  if (kind === RELU) return f32x4.max(x, f32x4.splat(0));
  if (kind === LEAKY) return join(leaky2(lo(x), alpha), leaky2(hi(x), alpha));
  if (kind === SOFTSIGN) return join(softsign2(lo(x)), softsign2(hi(x)));
  if (kind === SILU) return f32x4.mul(x, sigmoidV(x));
  if (kind === HARDTANH) return f32x4.min(f32x4.max(x, f32x4.splat(-1)), f32x4.splat(1));
  return x;
}

/** A float as lane 0 of a f32x4 (the other lanes 0), for the scalar tails. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function lane(at: usize): v128 {
  return f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(at));
}

/** y[i] = f(x[i]) for i < count (y may be x): two f32x4 per pass, then single floats in lane 0. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function forwardLoop(y: usize, x: usize, count: i32, kind: i32, a: v128): void {
  const end = (<usize>count) << 2;
  let i: usize = 0;
  for (; i + 32 <= end; i += 32) {
    v128.store(y + i, forward4(v128.load(x + i), kind, a));
    v128.store(y + i, forward4(v128.load(x + i, 16), kind, a), 16);
  }
  for (; i < end; i += 4) store<f32>(y + i, f32x4.extract_lane(forward4(lane(x + i), kind, a), 0));
}

// One function per kind: each inlines the loop with its kind constant, so the loop has no branch inside (one
// loop dispatching on a kind argument ran ~2x slower: V8 keeps the compare chain and spills around it).
function forwardTanh(y: usize, x: usize, count: i32, a: v128): void {
  forwardLoop(y, x, count, TANH, a);
}
function forwardSigmoid(y: usize, x: usize, count: i32, a: v128): void {
  forwardLoop(y, x, count, SIGMOID, a);
}
function forwardRelu(y: usize, x: usize, count: i32, a: v128): void {
  forwardLoop(y, x, count, RELU, a);
}
function forwardLeaky(y: usize, x: usize, count: i32, a: v128): void {
  forwardLoop(y, x, count, LEAKY, a);
}
function forwardSoftsign(y: usize, x: usize, count: i32, a: v128): void {
  forwardLoop(y, x, count, SOFTSIGN, a);
}
function forwardSilu(y: usize, x: usize, count: i32, a: v128): void {
  forwardLoop(y, x, count, SILU, a);
}
function forwardHardtanh(y: usize, x: usize, count: i32, a: v128): void {
  forwardLoop(y, x, count, HARDTANH, a);
}

/** y[i] = f(x[i]) for i < count (y may be x). kind: 1 tanh ... 7 hardtanh (0 identity copies); alpha: leaky ReLU's slope. */
export function activationForwardF32(y: usize, x: usize, count: i32, kind: i32, alpha: f64): void {
  const a = f64x2.splat(alpha);
  if (kind === TANH) forwardTanh(y, x, count, a);
  else if (kind === SIGMOID) forwardSigmoid(y, x, count, a);
  else if (kind === RELU) forwardRelu(y, x, count, a);
  else if (kind === LEAKY) forwardLeaky(y, x, count, a);
  else if (kind === SOFTSIGN) forwardSoftsign(y, x, count, a);
  else if (kind === SILU) forwardSilu(y, x, count, a);
  else if (kind === HARDTANH) forwardHardtanh(y, x, count, a);
  else if (y !== x) memory.copy(y, x, (<usize>count) << 2);
}

/** dx += dy f'(x) for two float64 lanes (y = f(x) from the forward pass, also float64). */
// @ts-ignore: decorator (AssemblyScript)
@inline
function backward2(dx: v128, dy: v128, x: v128, y: v128, kind: i32, alpha: v128): v128 {
  const one = f64x2.splat(1);
  if (kind === TANH) return f64x2.add(dx, f64x2.mul(dy, f64x2.sub(one, f64x2.mul(y, y))));
  if (kind === SIGMOID) return f64x2.add(dx, f64x2.mul(f64x2.mul(dy, y), f64x2.sub(one, y)));
  if (kind === LEAKY)
    return f64x2.add(dx, v128.bitselect(dy, f64x2.mul(alpha, dy), f64x2.gt(x, f64x2.splat(0))));
  if (kind === SOFTSIGN) {
    const d = f64x2.add(one, f64x2.abs(x));
    return f64x2.add(dx, f64x2.div(dy, f64x2.mul(d, d)));
  }
  // silu: y holds the (fast, float32) sigmoid of x here; dx += dy s (1 + x (1 - s)).
  return f64x2.add(dx, f64x2.mul(f64x2.mul(dy, y), f64x2.add(one, f64x2.mul(x, f64x2.sub(one, y)))));
}

/** dx += dy f'(x) for four lanes; y = f(x) (tanh, sigmoid). */
// @ts-ignore: decorator (AssemblyScript)
@inline
function backward4(dx: v128, dy: v128, x: v128, y: v128, kind: i32, alpha: v128): v128 {
  if (kind === RELU) return v128.bitselect(f32x4.add(dx, dy), dx, f32x4.gt(x, f32x4.splat(0)));
  if (kind === HARDTANH) {
    const inside = v128.and(f32x4.gt(x, f32x4.splat(-1)), f32x4.lt(x, f32x4.splat(1)));
    return v128.bitselect(f32x4.add(dx, dy), dx, inside);
  }
  if (kind === 0) return f32x4.add(dx, dy);
  const s = kind === SILU ? sigmoidV(x) : y;
  return join(
    backward2(lo(dx), lo(dy), lo(x), lo(s), kind, alpha),
    backward2(hi(dx), hi(dy), hi(x), hi(s), kind, alpha),
  );
}

/** dx[i] += dy[i] f'(x[i]) for i < count: f32x4 per pass, then single floats in lane 0. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function backwardLoop(dx: usize, dy: usize, x: usize, y: usize, count: i32, kind: i32, a: v128): void {
  const end = (<usize>count) << 2;
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) {
    v128.store(dx + i, backward4(v128.load(dx + i), v128.load(dy + i), v128.load(x + i), v128.load(y + i), kind, a));
  }
  for (; i < end; i += 4) {
    const r = backward4(lane(dx + i), lane(dy + i), lane(x + i), lane(y + i), kind, a);
    store<f32>(dx + i, f32x4.extract_lane(r, 0));
  }
}

// One function per kind, as for the forward pass.
function backwardTanh(dx: usize, dy: usize, x: usize, y: usize, count: i32, a: v128): void {
  backwardLoop(dx, dy, x, y, count, TANH, a);
}
function backwardSigmoid(dx: usize, dy: usize, x: usize, y: usize, count: i32, a: v128): void {
  backwardLoop(dx, dy, x, y, count, SIGMOID, a);
}
function backwardRelu(dx: usize, dy: usize, x: usize, y: usize, count: i32, a: v128): void {
  backwardLoop(dx, dy, x, y, count, RELU, a);
}
function backwardLeaky(dx: usize, dy: usize, x: usize, y: usize, count: i32, a: v128): void {
  backwardLoop(dx, dy, x, y, count, LEAKY, a);
}
function backwardSoftsign(dx: usize, dy: usize, x: usize, y: usize, count: i32, a: v128): void {
  backwardLoop(dx, dy, x, y, count, SOFTSIGN, a);
}
function backwardSilu(dx: usize, dy: usize, x: usize, y: usize, count: i32, a: v128): void {
  backwardLoop(dx, dy, x, y, count, SILU, a);
}
function backwardHardtanh(dx: usize, dy: usize, x: usize, y: usize, count: i32, a: v128): void {
  backwardLoop(dx, dy, x, y, count, HARDTANH, a);
}
function backwardIdentity(dx: usize, dy: usize, x: usize, y: usize, count: i32, a: v128): void {
  backwardLoop(dx, dy, x, y, count, 0, a);
}

/** dx[i] += dy[i] f'(x[i]) for i < count; y = f(x) from the forward pass (read for tanh and sigmoid). */
export function activationBackwardF32(
  dx: usize,
  dy: usize,
  x: usize,
  y: usize,
  count: i32,
  kind: i32,
  alpha: f64,
): void {
  const a = f64x2.splat(alpha);
  if (kind === TANH) backwardTanh(dx, dy, x, y, count, a);
  else if (kind === SIGMOID) backwardSigmoid(dx, dy, x, y, count, a);
  else if (kind === RELU) backwardRelu(dx, dy, x, y, count, a);
  else if (kind === LEAKY) backwardLeaky(dx, dy, x, y, count, a);
  else if (kind === SOFTSIGN) backwardSoftsign(dx, dy, x, y, count, a);
  else if (kind === SILU) backwardSilu(dx, dy, x, y, count, a);
  else if (kind === HARDTANH) backwardHardtanh(dx, dy, x, y, count, a);
  else backwardIdentity(dx, dy, x, y, count, a);
}


/**
 * The gate over `items` batch items: y[n][i] = tanh(a) sigmoid(b) with a = x[n][i], b = x[n][count + i],
 * i < count (= channels x length); x items are 2 count floats apart, y items count. Two f32x4 per pass: the
 * two exp chains of one vector are serial, two vectors fill the pipelines (~20% faster).
 */
export function gatedForwardF32(y: usize, x: usize, count: i32, items: i32): void {
  const half = (<usize>count) << 2;
  for (let n = 0; n < items; n++) {
    const xa = x + <usize>(2 * n) * half;
    const xb = xa + half;
    const yo = y + <usize>n * half;
    let i: usize = 0;
    for (; i + 32 <= half; i += 32) {
      v128.store(yo + i, gateV(v128.load(xa + i), v128.load(xb + i)));
      v128.store(yo + i, gateV(v128.load(xa + i, 16), v128.load(xb + i, 16)), 16);
    }
    for (; i < half; i += 4) store<f32>(yo + i, f32x4.extract_lane(gateV(lane(xa + i), lane(xb + i)), 0));
  }
}

/**
 * Four lanes of the gate's gradient at these addresses: th = tanh(a), sg = sigmoid(b), g = dy sg;
 * dx_a += g (1 - th^2) = dy tanh'(a) sigmoid(b), dx_b += g th (1 - sg) = dy tanh(a) sigmoid'(b).
 */
// @ts-ignore: decorator (AssemblyScript)
@inline
function gateGrad(da: usize, db: usize, xa: usize, xb: usize, dy: usize): void {
  const one = f32x4.splat(1);
  const th = tanhV(v128.load(xa));
  const sg = sigmoidV(v128.load(xb));
  const g = f32x4.mul(v128.load(dy), sg);
  v128.store(da, f32x4.add(v128.load(da), f32x4.mul(g, f32x4.sub(one, f32x4.mul(th, th)))));
  v128.store(db, f32x4.add(v128.load(db), f32x4.mul(f32x4.mul(g, th), f32x4.sub(one, sg))));
}

/** dx[n][i] += dy tanh'(a) sigmoid(b), dx[n][count + i] += dy tanh(a) sigmoid'(b): the gate's gradient. */
export function gatedBackwardF32(dx: usize, dy: usize, x: usize, count: i32, items: i32): void {
  const half = (<usize>count) << 2;
  for (let n = 0; n < items; n++) {
    const xa = x + <usize>(2 * n) * half;
    const xb = xa + half;
    const da = dx + <usize>(2 * n) * half;
    const db = da + half;
    const g = dy + <usize>n * half;
    let i: usize = 0;
    for (; i + 32 <= half; i += 32) {
      gateGrad(da + i, db + i, xa + i, xb + i, g + i);
      gateGrad(da + i + 16, db + i + 16, xa + i + 16, xb + i + 16, g + i + 16);
    }
    // Scalar tail: the same float32 operations on lane 0.
    for (; i < half; i += 4) {
      const th = f32x4.extract_lane(tanhV(lane(xa + i)), 0);
      const sg = f32x4.extract_lane(sigmoidV(lane(xb + i)), 0);
      const gs = load<f32>(g + i) * sg;
      store<f32>(da + i, load<f32>(da + i) + gs * (1 - th * th));
      store<f32>(db + i, load<f32>(db + i) + gs * th * (1 - sg));
    }
  }
}
