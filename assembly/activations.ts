/*
 * Element-wise training kernels on f32x4: the WaveNet gate and the activations of src/nn/kernels/types.ts
 * (AssemblyScript; pointers are byte addresses in the scratch memory, counts are floats). Twins:
 * src/nn/kernels/js/{gated,activations}.ts.
 *
 * tanh, sigmoid, silu and the gate use ./fastmath's fast exp, sigmoid and tanh (allowed for training, where the
 * JS twins' exact Math.tanh / Math.exp cost ~10 ns each): a few float32 ulps, within ~2e-7 absolute of the exact
 * functions; test/nn/kernels/wasm-activations.test.ts asserts it.
 *
 * Everything else equals the JS twin bit for bit: single float32 operations (max, min, add, compare) round the
 * same as the twin's double arithmetic rounded to float32, and the multi-operation formulas (leaky ReLU's
 * alpha x, softsign, and every backward dy f'(x) product) run in float64 lanes exactly as the twin writes
 * them, then round once.
 */
import {
  expV,
  fastMathTableAt,
  sigmoidV,
  T_ONE,
  TABLE_GATE,
  TABLE_SIGMOID,
  TABLE_TANH,
  tableLoop,
  tanhM,
  tanhV,
} from "./fastmath";

/**
 * tanh(a) sigmoid(b) = sign(a) m / ((m + 2)(1 + e^-b)) with m = e^{2|a|} - 1 (fastmath's tanhM): one division.
 * Where e^-b overflows the product does too, and the gate is 0 (sigmoid(b) < 1e-38).
 */
// @ts-ignore: decorator (AssemblyScript)
@inline
function gateV(a: v128, b: v128): v128 {
  const m = tanhM(a);
  const denominator = f32x4.mul(f32x4.add(m, f32x4.splat(2)), f32x4.add(f32x4.splat(1), expV(f32x4.neg(b))));
  return v128.or(f32x4.div(m, denominator), v128.and(a, i32x4.splat(0x80000000)));
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
// tanh and sigmoid keep fastmath's constants in registers (tableLoop; see fastmath.ts for what it gained).
function forwardTanh(y: usize, x: usize, count: i32, a: v128): void {
  tableLoop(y, x, count, TABLE_TANH);
}
function forwardSigmoid(y: usize, x: usize, count: i32, a: v128): void {
  tableLoop(y, x, count, TABLE_SIGMOID);
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

// ---- row tiles of the fused TCN (src/nn/kernels/wasm/tcn.ts) ---------------------------------------------
// A tile is a block of rows, row r at base + r * stride * 4 bytes. The forward pass saves what the backward
// needs in `save` (2 width rows): the gate's tanh(a) and sigmoid(b), or a plain activation's input and output.

/**
 * For rows c < width, frames t < count: th = tanh(z[c][t]), sg = sigmoid(z[width + c][t]); save[c][t] = th,
 * save[width + c][t] = sg, g[c][t] = th sg; g[c][count .. frames) = 0 (the tile's padding to whole blocks).
 * With fastmath's table constants held in registers (tableLoop).
 */
export function gateRowsForward(
  save: usize,
  saveStride: i32,
  g: usize,
  gStride: i32,
  z: usize,
  zStride: i32,
  width: i32,
  count: i32,
  frames: i32,
): void {
  for (let c = 0; c < width; c++) {
    const th = save + ((<usize>(c * saveStride)) << 2);
    const sg = save + ((<usize>((width + c) * saveStride)) << 2);
    const za = z + ((<usize>(c * zStride)) << 2);
    const zb = z + ((<usize>((width + c) * zStride)) << 2);
    const gc = g + ((<usize>(c * gStride)) << 2);
    tableLoop(th, za, count, TABLE_GATE, sg, zb, gc);
    if (frames > count) memory.fill(gc + ((<usize>count) << 2), 0, (<usize>(frames - count)) << 2);
  }
}

/**
 * The gate's gradient from th, sg in save, for t < count: dz[c][t] = dg sg (1 - th^2), dz[width + c][t] =
 * dg sg th (1 - sg), in the order of gatedBackwardF32 (and its JS twin); and the gate's output again,
 * g[c][t] = th sg, 0 for count <= t < frames (the residual's weight gradient reads it).
 */
export function gateRowsBackward(
  dz: usize,
  dzStride: i32,
  g: usize,
  gStride: i32,
  dg: usize,
  dgStride: i32,
  save: usize,
  saveStride: i32,
  width: i32,
  count: i32,
  frames: i32,
): void {
  const one = v128.load32_splat(fastMathTableAt() + T_ONE);
  for (let c = 0; c < width; c++) {
    const th = save + ((<usize>(c * saveStride)) << 2);
    const sg = save + ((<usize>((width + c) * saveStride)) << 2);
    const da = dz + ((<usize>(c * dzStride)) << 2);
    const db = dz + ((<usize>((width + c) * dzStride)) << 2);
    const d = dg + ((<usize>(c * dgStride)) << 2);
    const gc = g + ((<usize>(c * gStride)) << 2);
    for (let f = 0; f < count; ) {
      const i = (<usize>f) << 2;
      const whole = f + 4 <= count;
      const t = whole ? v128.load(th + i) : lane(th + i);
      const s = whole ? v128.load(sg + i) : lane(sg + i);
      const gs = f32x4.mul(whole ? v128.load(d + i) : lane(d + i), s);
      const a = f32x4.mul(gs, f32x4.sub(one, f32x4.mul(t, t)));
      const b = f32x4.mul(f32x4.mul(gs, t), f32x4.sub(one, s));
      const gv = f32x4.mul(t, s);
      if (whole) {
        v128.store(da + i, a);
        v128.store(db + i, b);
        v128.store(gc + i, gv);
      } else {
        store<f32>(da + i, f32x4.extract_lane(a, 0));
        store<f32>(db + i, f32x4.extract_lane(b, 0));
        store<f32>(gc + i, f32x4.extract_lane(gv, 0));
      }
      f += whole ? 4 : 1;
    }
    if (frames > count) memory.fill(gc + ((<usize>count) << 2), 0, (<usize>(frames - count)) << 2);
  }
}

/**
 * A plain activation over a tile: for rows c < width, t < count: save[c][t] = z[c][t], save[width + c][t] =
 * g[c][t] = f(z[c][t]) (kind and alpha as activationForwardF32); g[c][count .. frames) = 0.
 */
export function activationRowsForward(
  save: usize,
  saveStride: i32,
  g: usize,
  gStride: i32,
  z: usize,
  zStride: i32,
  width: i32,
  count: i32,
  frames: i32,
  kind: i32,
  alpha: f64,
): void {
  const bytes = (<usize>count) << 2;
  for (let c = 0; c < width; c++) {
    const x = save + ((<usize>(c * saveStride)) << 2);
    const y = save + ((<usize>((width + c) * saveStride)) << 2);
    const gc = g + ((<usize>(c * gStride)) << 2);
    memory.copy(x, z + ((<usize>(c * zStride)) << 2), bytes);
    activationForwardF32(y, x, count, kind, alpha);
    memory.copy(gc, y, bytes);
    if (frames > count) memory.fill(gc + bytes, 0, (<usize>(frames - count)) << 2);
  }
}

/** dz[c][t] = dg[c][t] f'(x) for t < count, x and f(x) from save (as activationBackwardF32 adding into 0). */
export function activationRowsBackward(
  dz: usize,
  dzStride: i32,
  dg: usize,
  dgStride: i32,
  save: usize,
  saveStride: i32,
  width: i32,
  count: i32,
  kind: i32,
  alpha: f64,
): void {
  for (let c = 0; c < width; c++) {
    const d = dz + ((<usize>(c * dzStride)) << 2);
    memory.fill(d, 0, (<usize>count) << 2);
    activationBackwardF32(
      d,
      dg + ((<usize>(c * dgStride)) << 2),
      save + ((<usize>(c * saveStride)) << 2),
      save + ((<usize>((width + c) * saveStride)) << 2),
      count,
      kind,
      alpha,
    );
  }
}
