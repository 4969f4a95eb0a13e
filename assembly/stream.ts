/*
 * WebAssembly SIMD kernels of the streaming runtime besides the plain convolution (assembly/conv.ts), so that a
 * block of audio costs a few wasm calls (bound by src/runtime/wasm/kernels.ts; the JS twins are the loops of
 * src/runtime/kernels.ts):
 *   streamConvLayer  a conv fused with what follows it in a WaveNet / TCN layer: dilated conv + 1x1 mixin of a
 *                    second input (+ a residual), then the activation (or gate / blend) and the head sum
 *   streamActivate   an activation in place over rows
 *   streamRecurrent  LSTM / GRU steps over a block, batch 1, vectorised over the gate rows; streamRecurrentHead
 *                    the linear head after them
 * Pointers are byte addresses in the imported memory (the arena); strides and sizes count float32s. Channel c of
 * a signal, block frame t, is at base + (c * stride + t) * 4. Everything sums in float32.
 *
 * Activations (codes below, mirrored by src/runtime/wasm/kernels.ts). The fast sigmoid / SiLU are fastmath.ts's
 * (bit for bit), the fast tanh an expm1 form of the same exp (tanhF): max abs error ~1e-7 against the exact
 * functions, a few float32 ulps. The *_EXACT codes compute in float64 (exp to ~1e-14 relative) and round once to
 * float32, as the JS twins do with Math.tanh / Math.exp: they give the same float32 but in rare 1-ulp cases where
 * the exact value is within ~1e-14 of a rounding tie. About 6x the cost of the fast ones.
 *
 * Every frame is computed by the same float32 operations in the same order whatever its position in a block (the
 * remainder frames run the same lane operations, one lane at a time), so results do not depend on block splits.
 */
const IDENTITY = 0;
const TANH = 1;
const SIGMOID = 2;
const RELU = 3;
const LEAKY_RELU = 4;
const SOFTSIGN = 5;
const SILU = 6;
const HARDTANH = 7;
const TANH_EXACT = 8;
const SIGMOID_EXACT = 9;
const SILU_EXACT = 10;

// Constants =======================================================================================================
//
// The vector constants live in a table in memory (written by streamInit) and are read with load32_splat /
// load64_splat where they are used: V8 (Node 20) rebuilds a v128.const from immediates at every use (three
// instructions, in the loop), which made an inlined exp twice as slow as with the loads.

/** Address of the constant table (streamInit). */
let K: usize = 0;

// float32 entries (byte offsets)
const F_EXP_LO: usize = 0;
const F_EXP_HI: usize = 4;
const F_LOG2E: usize = 8;
const F_MAGIC: usize = 12;
const F_LN2_HI: usize = 16;
const F_LN2_LO: usize = 20;
const F_P0: usize = 24; // ..F_P0 + 20: the six coefficients of e^r's polynomial
const F_ONE: usize = 48;
const F_TWO: usize = 52;
const F_SIGN: usize = 72;
const F_ABS: usize = 76;
const F_EXP_BIAS: usize = 80;
const F_TANH_HI: usize = 84;
// float64 entries
const D_LO: usize = 128;
const D_HI: usize = 136;
const D_LOG2E: usize = 144;
const D_MAGIC: usize = 152;
const D_LN2_HI: usize = 160;
const D_LN2_LO: usize = 168;
const D_EXP_BIAS: usize = 176;
const D_ONE: usize = 184;
const D_SIGN: usize = 192;
const D_ABS: usize = 200;
const D_SMALL: usize = 208;
const D_TA: usize = 216;
const D_TB: usize = 224;
const D_TC: usize = 232;
const D_P: usize = 240; // ..D_P + 88: 1/11!, 1/10!, ..., 1/2, 1, 1
/** Writes the constant table at `at` (336 bytes, 8-byte aligned) and remembers it. Call once per instance. */
export function streamInit(at: usize): void {
  K = at;
  // expf after Cephes (the same float32 operations as fastmath.ts expV, so the same results for finite input).
  store<f32>(at + F_EXP_LO, -87.3);
  store<f32>(at + F_EXP_HI, 88.3);
  store<f32>(at + F_LOG2E, 1.4426950408889634);
  store<f32>(at + F_MAGIC, 12582912.0); // 1.5 * 2^23: adding it rounds to an integer, held in the low bits
  store<f32>(at + F_LN2_HI, 0.693359375);
  store<f32>(at + F_LN2_LO, -2.12194440e-4);
  store<f32>(at + F_P0, 1.9875691500e-4);
  store<f32>(at + F_P0 + 4, 1.3981999507e-3);
  store<f32>(at + F_P0 + 8, 8.3334519073e-3);
  store<f32>(at + F_P0 + 12, 4.1665795894e-2);
  store<f32>(at + F_P0 + 16, 1.6666665459e-1);
  store<f32>(at + F_P0 + 20, 5.0000001201e-1);
  store<f32>(at + F_ONE, 1);
  store<f32>(at + F_TWO, 2);
  store<u32>(at + F_SIGN, 0x80000000);
  store<u32>(at + F_ABS, 0x7fffffff);
  store<i32>(at + F_EXP_BIAS, 0x4b400000 - 127);
  store<f32>(at + F_TANH_HI, 20);
  store<f64>(at + D_LO, -700);
  store<f64>(at + D_HI, 700);
  store<f64>(at + D_LOG2E, 1.4426950408889634);
  store<f64>(at + D_MAGIC, 6755399441055744.0); // 1.5 * 2^52
  // ln 2 in two parts (fdlibm's): n * D_LN2_HI is exact for |n| < 2^20.
  store<f64>(at + D_LN2_HI, 6.93147180369123816490e-1);
  store<f64>(at + D_LN2_LO, 1.90821492927058770002e-10);
  store<i64>(at + D_EXP_BIAS, 0x4338000000000000 - 1023);
  store<f64>(at + D_ONE, 1);
  store<u64>(at + D_SIGN, 0x8000000000000000);
  store<u64>(at + D_ABS, 0x7fffffffffffffff);
  store<f64>(at + D_SMALL, 0.004);
  store<f64>(at + D_TA, -17.0 / 315.0);
  store<f64>(at + D_TB, 2.0 / 15.0);
  store<f64>(at + D_TC, -1.0 / 3.0);
  // e^r's Taylor coefficients 1/i!, highest first (an ascending address: binaryen folds a descending one into a
  // negative base plus offset, which traps).
  let q = at + D_P;
  for (let i = 11; i >= 1; i--) {
    let f: f64 = 1;
    for (let j = 2; j <= i; j++) f *= j;
    store<f64>(q, 1 / f);
    q += 8;
  }
  store<f64>(at + D_P + 88, 1);
}

// @ts-ignore: decorator (AssemblyScript)
@inline
function cf(k: usize, offset: usize): v128 {
  return v128.load32_splat(k + offset);
}

// @ts-ignore: decorator (AssemblyScript)
@inline
function cd(k: usize, offset: usize): v128 {
  return v128.load64_splat(k + offset);
}

// Fast float32 exp, sigmoid, tanh ===================================================================================
//
// exp and sigmoid are fastmath.ts's expV / sigmoidV operation for operation (max abs error ~1e-7 against the exact
// functions: a few float32 ulps), with its clamps as pmin / pmax and its round-to-integer as the 1.5 * 2^23 trick
// (one instruction each in V8 instead of several; the same results for finite input). tanh is below.

// @ts-ignore: decorator (AssemblyScript)
@inline
function expF(x: v128, k: usize): v128 {
  x = f32x4.pmin(f32x4.pmax(x, cf(k, F_EXP_LO)), cf(k, F_EXP_HI));
  const magic = cf(k, F_MAGIC);
  const t = f32x4.add(f32x4.mul(x, cf(k, F_LOG2E)), magic);
  const n = f32x4.sub(t, magic);
  let r = f32x4.sub(x, f32x4.mul(n, cf(k, F_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, cf(k, F_LN2_LO)));
  let p = cf(k, F_P0);
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 4));
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 8));
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 12));
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 16));
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 20));
  const er = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), cf(k, F_ONE));
  // t's low mantissa bits hold n: (n + 127) << 23 is 2^n.
  return f32x4.mul(er, i32x4.shl(i32x4.sub(t, cf(k, F_EXP_BIAS)), 23));
}

// @ts-ignore: decorator (AssemblyScript)
@inline
function sigmoidF(x: v128, k: usize): v128 {
  const one = cf(k, F_ONE);
  return f32x4.div(one, f32x4.add(one, expF(v128.xor(x, cf(k, F_SIGN)), k)));
}

/**
 * m = e^{2|x|} - 1 = 2^n (e^r - 1) + (2^n - 1), with expF's reduction and polynomial but e^r - 1 = r + r^2 P(r) kept
 * apart from the 1 (no cancellation near 0). 2|x| is clamped to 20, where tanh is 1 in float32 (so m <= 5e8 and
 * products of a few such terms stay finite).
 */
// @ts-ignore: decorator (AssemblyScript)
@inline
function tanhM(x: v128, k: usize): v128 {
  const a = v128.and(x, cf(k, F_ABS));
  const y = f32x4.pmin(f32x4.add(a, a), cf(k, F_TANH_HI));
  const magic = cf(k, F_MAGIC);
  const t = f32x4.add(f32x4.mul(y, cf(k, F_LOG2E)), magic);
  const n = f32x4.sub(t, magic);
  let r = f32x4.sub(y, f32x4.mul(n, cf(k, F_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, cf(k, F_LN2_LO)));
  let p = cf(k, F_P0);
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 4));
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 8));
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 12));
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 16));
  p = f32x4.add(f32x4.mul(p, r), cf(k, F_P0 + 20));
  const er1 = f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r);
  const scale = i32x4.shl(i32x4.sub(t, cf(k, F_EXP_BIAS)), 23);
  return f32x4.add(f32x4.mul(scale, er1), f32x4.sub(scale, cf(k, F_ONE)));
}

/**
 * tanh x = sign(x) m / (m + 2) (tanhM): no series branch, fewer operations than fastmath.ts tanhV. Measured against
 * Math.tanh over 4M arguments in +-1e-5, +-0.2, +-3, +-12: max abs error 9e-8, max relative error 2e-7 (tanhV:
 * 1e-7 and 1e-6).
 */
// @ts-ignore: decorator (AssemblyScript)
@inline
function tanhF(x: v128, k: usize): v128 {
  const m = tanhM(x, k);
  return v128.or(f32x4.div(m, f32x4.add(m, cf(k, F_TWO))), v128.and(x, cf(k, F_SIGN)));
}

// Exact (float64) exp, tanh and sigmoid ============================================================================

/** e^x on f64x2: e^x = 2^n e^r, |r| <= ln2 / 2, e^r by its Taylor series to r^11 (error < 7e-15 relative). */
// @ts-ignore: decorator (AssemblyScript)
@inline
function expD(x: v128, k: usize): v128 {
  x = f64x2.pmin(f64x2.pmax(x, cd(k, D_LO)), cd(k, D_HI));
  const magic = cd(k, D_MAGIC);
  const t = f64x2.add(f64x2.mul(x, cd(k, D_LOG2E)), magic);
  const n = f64x2.sub(t, magic);
  let r = f64x2.sub(x, f64x2.mul(n, cd(k, D_LN2_HI)));
  r = f64x2.sub(r, f64x2.mul(n, cd(k, D_LN2_LO)));
  let p = cd(k, D_P);
  for (let i: usize = 1; i <= 11; i++) p = f64x2.add(f64x2.mul(p, r), cd(k, D_P + 8 * i));
  // t's low mantissa bits hold n: (n + 1023) << 52 is 2^n (|n| <= 1010 after the clamp).
  return f64x2.mul(p, i64x2.shl(i64x2.sub(t, cd(k, D_EXP_BIAS)), 52));
}

/**
 * tanh on f64x2: sign(x) (e - 1) / (e + 1) with e = e^{2|x|}; where |x| < 0.004 (where e - 1 would cancel) its
 * series to x^7 (next term < 2e-21 relative).
 */
// @ts-ignore: decorator (AssemblyScript)
@inline
function tanhD(x: v128, k: usize): v128 {
  const a = v128.and(x, cd(k, D_ABS));
  const e = expD(f64x2.add(a, a), k);
  const one = cd(k, D_ONE);
  const big = f64x2.div(f64x2.sub(e, one), f64x2.add(e, one));
  const x2 = f64x2.mul(x, x);
  let q = f64x2.add(f64x2.mul(x2, cd(k, D_TA)), cd(k, D_TB));
  q = f64x2.add(f64x2.mul(x2, q), cd(k, D_TC));
  const small = f64x2.add(x, f64x2.mul(f64x2.mul(x, x2), q));
  const signed = v128.or(big, v128.and(x, cd(k, D_SIGN)));
  return v128.bitselect(small, signed, f64x2.lt(a, cd(k, D_SMALL)));
}

/** f(x) in float64 on the four lanes of an f32x4, rounded once to float32: kind 1 tanh, 2 sigmoid, 3 SiLU. */
function exactV(v: v128, kind: i32, k: usize): v128 {
  const lo = f64x2.promote_low_f32x4(v);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
  let a: v128;
  let b: v128;
  const one = cd(k, D_ONE);
  if (kind === 1) {
    a = tanhD(lo, k);
    b = tanhD(hi, k);
  } else {
    // As the JS twins: 1 / (1 + e^-x) and x / (1 + e^-x).
    const sign = cd(k, D_SIGN);
    a = f64x2.div(kind === 2 ? one : lo, f64x2.add(one, expD(v128.xor(lo, sign), k)));
    b = f64x2.div(kind === 2 ? one : hi, f64x2.add(one, expD(v128.xor(hi, sign), k)));
  }
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}

// Activations =====================================================================================================

/** Activation `code` on one vector (`slope`: leaky ReLU's negative slope). */
function actV(v: v128, code: i32, slope: f32, k: usize): v128 {
  switch (code) {
    case TANH:
      return tanhF(v, k);
    case SIGMOID:
      return sigmoidF(v, k);
    case RELU:
      // pmax(0, v) = 0 < v ? v : 0 (NaN gives 0, as NAM core's relu).
      return f32x4.pmax(f32x4.splat(0), v);
    case LEAKY_RELU:
      return v128.bitselect(v, f32x4.mul(f32x4.splat(slope), v), f32x4.gt(v, f32x4.splat(0)));
    case SOFTSIGN:
      return f32x4.div(v, f32x4.add(cf(k, F_ONE), v128.and(v, cf(k, F_ABS))));
    case SILU: {
      const one = cf(k, F_ONE);
      return f32x4.div(v, f32x4.add(one, expF(v128.xor(v, cf(k, F_SIGN)), k)));
    }
    case HARDTANH: {
      const one = cf(k, F_ONE);
      return f32x4.min(f32x4.max(v, v128.xor(one, cf(k, F_SIGN))), one);
    }
    case TANH_EXACT:
      return exactV(v, 1, k);
    case SIGMOID_EXACT:
      return exactV(v, 2, k);
    case SILU_EXACT:
      return exactV(v, 3, k);
    default:
      return v;
  }
}

/**
 * d[t] = f(s[t]) for t < n (d may be s). tanh and sigmoid run their own loop with the function inlined; the
 * rest, and the remainder frames (one lane at a time), go through actV.
 */
function actRow(d: usize, s: usize, n: i32, code: i32, slope: f32): void {
  if (code === IDENTITY) {
    if (d !== s) memory.copy(d, s, (<usize>n) << 2);
    return;
  }
  const k = K;
  const end = (<usize>n) << 2;
  let i: usize = 0;
  // Two vectors per pass: two independent dependency chains (measured 1.3x faster than one).
  if (code === TANH) {
    for (; i + 32 <= end; i += 32) {
      const a = tanhF(v128.load(s + i), k);
      const b = tanhF(v128.load(s + i, 16), k);
      v128.store(d + i, a);
      v128.store(d + i, b, 16);
    }
  } else if (code === SIGMOID) {
    for (; i + 32 <= end; i += 32) {
      const a = sigmoidF(v128.load(s + i), k);
      const b = sigmoidF(v128.load(s + i, 16), k);
      v128.store(d + i, a);
      v128.store(d + i, b, 16);
    }
  }
  for (; i + 16 <= end; i += 16) v128.store(d + i, actV(v128.load(s + i), code, slope, k));
  for (; i < end; i += 4) {
    store<f32>(d + i, f32x4.extract_lane(actV(v128.load32_splat(s + i), code, slope, k), 0));
  }
}

/** d[t] = a[t] op b[t] for t < n: op 0 add, 1 multiply. */
function combineRow(d: usize, a: usize, b: usize, n: i32, op: i32): void {
  const end = (<usize>n) << 2;
  let i: usize = 0;
  if (op === 0) {
    for (; i + 16 <= end; i += 16) v128.store(d + i, f32x4.add(v128.load(a + i), v128.load(b + i)));
    for (; i < end; i += 4) store<f32>(d + i, load<f32>(a + i) + load<f32>(b + i));
  } else {
    for (; i + 16 <= end; i += 16) v128.store(d + i, f32x4.mul(v128.load(a + i), v128.load(b + i)));
    for (; i < end; i += 4) store<f32>(d + i, load<f32>(a + i) * load<f32>(b + i));
  }
}

/** d[t] = alpha f(z[t]) + (1 - alpha) z[t] with alpha = g(y[t]) (NAM's blended gating). */
function blendRow(d: usize, z: usize, y: usize, n: i32, f: i32, slope: f32, g: i32, slope2: f32): void {
  const k = K;
  const end = (<usize>n) << 2;
  const one = cf(k, F_ONE);
  for (let i: usize = 0; i < end; i += 4) {
    // Whole vectors where they fit, else one lane (the same lane operations).
    const whole = i + 16 <= end;
    const v = whole ? v128.load(z + i) : v128.load32_splat(z + i);
    const alpha = actV(whole ? v128.load(y + i) : v128.load32_splat(y + i), g, slope2, k);
    const r = f32x4.add(f32x4.mul(alpha, actV(v, f, slope, k)), f32x4.mul(f32x4.sub(one, alpha), v));
    if (whole) {
      v128.store(d + i, r);
      i += 12;
    } else {
      store<f32>(d + i, f32x4.extract_lane(r, 0));
    }
  }
}

/** data[c, t] = f(data[c, t]) for c < channels, t < frames. */
export function streamActivate(data: usize, stride: i32, channels: i32, frames: i32, code: i32, slope: f32): void {
  for (let c = 0; c < channels; c++) {
    const row = data + ((<usize>(c * stride)) << 2);
    actRow(row, row, frames, code, slope);
  }
}

// The fused conv ==================================================================================================

/**
 * One conv step of a layer, then its epilogue:
 *   z[o, t] = (accumulate ? z[o, t] : 0) + bias[o] + sum_{c, k} w[o, c, k] inp[c, t + k * dilation]
 *             + sum_j mixW[o, j] mix[j, t]                                  (float32, in this order)
 *   z[o, t] += res[o, t]                                                    (res != 0; every o)
 *   a[c, t] = f(z[c, t])                                      gate 0, c < outChannels
 *           = f(z[c, t]) * g(z[B + c, t])                     gate 1, c < B = outChannels / 2 (g in place on z[B + c])
 *           = alpha f(z[c, t]) + (1 - alpha) z[c, t], alpha = g(z[B + c, t])      gate 2 (NAM's blend)
 *   head[c, t] += a[c, t]                                                   (head != 0)
 * f, g: activation codes, with leaky ReLU slopes [f's, g's] at `slopes` (0: none; in memory, not arguments: a
 * double argument from JS can cost a heap number per call).
 * z: `out` rows (outStride); a: `dst` rows (may be out); inp points at the OLDEST tap of frame 0 (the block start
 * minus (kernelSize - 1) * dilation); mix: 0 for none (then mixChannels must be 0). The sum's terms, n < terms =
 * inChannels * kernelSize + mixChannels, are the (channel, tap) pairs then the mixin channels; `table` (scratch,
 * terms i32) gets each term's input address relative to inp.
 * w packed (streamPackLayer's layout): per group of four output rows [terms][4] (the four rows' weights of a term
 * side by side), then the last outChannels % 4 rows as [row][terms]; bias [outChannels] or 0.
 * The conv keeps four output rows x eight frames (eight f32x4 accumulators) in registers over all terms, one flat
 * loop; the epilogue runs over the block afterwards, row by row, while it is in cache.
 */
export function streamConvLayer(
  out: usize,
  outStride: i32,
  inp: usize,
  inStride: i32,
  w: usize,
  bias: usize,
  inChannels: i32,
  outChannels: i32,
  kernelSize: i32,
  dilation: i32,
  mix: usize,
  mixStride: i32,
  mixChannels: i32,
  table: usize,
  res: usize,
  resStride: i32,
  dst: usize,
  dstStride: i32,
  head: usize,
  headStride: i32,
  activation: i32,
  secondary: i32,
  gate: i32,
  slopes: usize,
  frames: i32,
  accumulate: i32,
): void {
  const slope: f32 = slopes === 0 ? 0 : load<f32>(slopes);
  const slope2: f32 = slopes === 0 ? 0 : load<f32>(slopes, 4);
  const ob = (<usize>outStride) << 2;
  const terms = inChannels * kernelSize + mixChannels;
  let n: usize = table;
  for (let c = 0; c < inChannels; c++) {
    for (let k = 0; k < kernelSize; k++) {
      store<u32>(n, <u32>((c * inStride + k * dilation) << 2));
      n += 4;
    }
  }
  for (let j = 0; j < mixChannels; j++) {
    // Wrapping u32 arithmetic: inp + this is mix's row j.
    store<u32>(n, <u32>(mix - inp) + <u32>((j * mixStride) << 2));
    n += 4;
  }
  const end = n;
  const wb = (<usize>terms) << 2;
  let o = 0;
  for (; o + 4 <= outChannels; o += 4) {
    const b = bias === 0 ? 0 : bias + ((<usize>o) << 2);
    rows4(out + <usize>o * ob, ob, inp, w + <usize>o * wb, b, table, end, frames, accumulate);
  }
  for (; o < outChannels; o++) {
    const b: f32 = bias === 0 ? 0 : load<f32>(bias + ((<usize>o) << 2));
    rows1(out + <usize>o * ob, inp, w + <usize>o * wb, b, table, end, frames, accumulate);
  }
  // Epilogue.
  if (res !== 0) {
    const rb = (<usize>resStride) << 2;
    for (let c = 0; c < outChannels; c++) {
      const z = out + <usize>c * ob;
      combineRow(z, z, res + <usize>c * rb, frames, 0);
    }
  }
  const half = gate === 0 ? outChannels : outChannels >> 1;
  const dstb = (<usize>dstStride) << 2;
  const hb = (<usize>headStride) << 2;
  for (let c = 0; c < half; c++) {
    const z = out + <usize>c * ob;
    const d = dst + <usize>c * dstb;
    const y = out + <usize>(c + half) * ob;
    if (gate === 2) {
      blendRow(d, z, y, frames, activation, slope, secondary, slope2);
    } else {
      actRow(d, z, frames, activation, slope);
      if (gate === 1) {
        actRow(y, y, frames, secondary, slope2);
        combineRow(d, d, y, frames, 1);
      }
    }
    if (head !== 0) {
      const h = head + <usize>c * hb;
      combineRow(h, h, d, frames, 0);
    }
  }
}

/** Four output rows (r0 + q * ob; packed weights at w, [term][4]; biases at bias + 4 q, 0: none). */
function rows4(
  r0: usize,
  ob: usize,
  inp: usize,
  w: usize,
  bias: usize,
  table: usize,
  end: usize,
  frames: i32,
  accumulate: i32,
): void {
  const r1 = r0 + ob;
  const r2 = r1 + ob;
  const r3 = r2 + ob;
  const s0: f32 = bias === 0 ? 0 : load<f32>(bias);
  const s1: f32 = bias === 0 ? 0 : load<f32>(bias, 4);
  const s2: f32 = bias === 0 ? 0 : load<f32>(bias, 8);
  const s3: f32 = bias === 0 ? 0 : load<f32>(bias, 12);
  let t = 0;
  for (; t + 8 <= frames; t += 8) {
    const tb = (<usize>t) << 2;
    let a0 = f32x4.splat(s0);
    let a1 = f32x4.splat(s1);
    let a2 = f32x4.splat(s2);
    let a3 = f32x4.splat(s3);
    let a0h = a0;
    let a1h = a1;
    let a2h = a2;
    let a3h = a3;
    if (accumulate) {
      a0 = f32x4.add(v128.load(r0 + tb), a0);
      a0h = f32x4.add(v128.load(r0 + tb, 16), a0h);
      a1 = f32x4.add(v128.load(r1 + tb), a1);
      a1h = f32x4.add(v128.load(r1 + tb, 16), a1h);
      a2 = f32x4.add(v128.load(r2 + tb), a2);
      a2h = f32x4.add(v128.load(r2 + tb, 16), a2h);
      a3 = f32x4.add(v128.load(r3 + tb), a3);
      a3h = f32x4.add(v128.load(r3 + tb, 16), a3h);
    }
    const base = inp + tb;
    let wp = w;
    for (let n = table; n < end; n += 4) {
      const p = base + load<u32>(n);
      const x = v128.load(p);
      const xh = v128.load(p, 16);
      let v = v128.load32_splat(wp);
      a0 = f32x4.add(a0, f32x4.mul(v, x));
      a0h = f32x4.add(a0h, f32x4.mul(v, xh));
      v = v128.load32_splat(wp, 4);
      a1 = f32x4.add(a1, f32x4.mul(v, x));
      a1h = f32x4.add(a1h, f32x4.mul(v, xh));
      v = v128.load32_splat(wp, 8);
      a2 = f32x4.add(a2, f32x4.mul(v, x));
      a2h = f32x4.add(a2h, f32x4.mul(v, xh));
      v = v128.load32_splat(wp, 12);
      a3 = f32x4.add(a3, f32x4.mul(v, x));
      a3h = f32x4.add(a3h, f32x4.mul(v, xh));
      wp += 16;
    }
    v128.store(r0 + tb, a0);
    v128.store(r0 + tb, a0h, 16);
    v128.store(r1 + tb, a1);
    v128.store(r1 + tb, a1h, 16);
    v128.store(r2 + tb, a2);
    v128.store(r2 + tb, a2h, 16);
    v128.store(r3 + tb, a3);
    v128.store(r3 + tb, a3h, 16);
  }
  for (; t < frames; t++) {
    const tb = (<usize>t) << 2;
    one(r0 + tb, inp + tb, w, 16, s0, table, end, accumulate);
    one(r1 + tb, inp + tb, w + 4, 16, s1, table, end, accumulate);
    one(r2 + tb, inp + tb, w + 8, 16, s2, table, end, accumulate);
    one(r3 + tb, inp + tb, w + 12, 16, s3, table, end, accumulate);
  }
}

/** One output row (weights at w, [term]): eight frames per pass (two f32x4 accumulators), then single frames. */
function rows1(r0: usize, inp: usize, w: usize, s0: f32, table: usize, end: usize, frames: i32, accumulate: i32): void {
  let t = 0;
  for (; t + 8 <= frames; t += 8) {
    const tb = (<usize>t) << 2;
    let a = f32x4.splat(s0);
    let ah = a;
    if (accumulate) {
      a = f32x4.add(v128.load(r0 + tb), a);
      ah = f32x4.add(v128.load(r0 + tb, 16), ah);
    }
    const base = inp + tb;
    let wp = w;
    for (let n = table; n < end; n += 4) {
      const p = base + load<u32>(n);
      const v = v128.load32_splat(wp);
      a = f32x4.add(a, f32x4.mul(v, v128.load(p)));
      ah = f32x4.add(ah, f32x4.mul(v, v128.load(p, 16)));
      wp += 4;
    }
    v128.store(r0 + tb, a);
    v128.store(r0 + tb, ah, 16);
  }
  for (; t < frames; t++) {
    const tb = (<usize>t) << 2;
    one(r0 + tb, inp + tb, w, 4, s0, table, end, accumulate);
  }
}

/** One output sample at o (terms relative to x; weights at w, `step` bytes apart): remainder frames and rows. */
function one(o: usize, x: usize, w: usize, step: usize, s0: f32, table: usize, end: usize, accumulate: i32): void {
  let a: f32 = accumulate ? load<f32>(o) + s0 : s0;
  let wp = w;
  for (let n = table; n < end; n += 4) {
    a += load<f32>(wp) * load<f32>(x + load<u32>(n));
    wp += step;
  }
  store<f32>(o, a);
}

// Recurrent cells =================================================================================================

/**
 * The gate sums of 16 gate rows: out[r] = w[r] + sum_j w[(1 + j) * row + r] x[j] + sum_j w[(1 + inputs + j) * row + r]
 * h[j] (row: bytes per weight row), in this order, in four f32x4 accumulators; two hidden columns per pass (eight
 * accumulators, or one column per pass, measured slower: V8 spills, or spends more on the loop).
 */
function gates4(w: usize, row: usize, x: usize, inputs: i32, h: usize, hidden: i32, out: usize): void {
  let a0 = v128.load(w);
  let a1 = v128.load(w, 16);
  let a2 = v128.load(w, 32);
  let a3 = v128.load(w, 48);
  let p = w + row;
  for (let j = 0; j < inputs; j++) {
    const s = v128.load32_splat(x + ((<usize>j) << 2));
    a0 = f32x4.add(a0, f32x4.mul(v128.load(p), s));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), s));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), s));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), s));
    p += row;
  }
  let j = 0;
  for (; j + 2 <= hidden; j += 2) {
    const s = v128.load32_splat(h + ((<usize>j) << 2));
    const u = v128.load32_splat(h + ((<usize>j) << 2), 4);
    const q = p + row;
    a0 = f32x4.add(f32x4.add(a0, f32x4.mul(v128.load(p), s)), f32x4.mul(v128.load(q), u));
    a1 = f32x4.add(f32x4.add(a1, f32x4.mul(v128.load(p, 16), s)), f32x4.mul(v128.load(q, 16), u));
    a2 = f32x4.add(f32x4.add(a2, f32x4.mul(v128.load(p, 32), s)), f32x4.mul(v128.load(q, 32), u));
    a3 = f32x4.add(f32x4.add(a3, f32x4.mul(v128.load(p, 48), s)), f32x4.mul(v128.load(q, 48), u));
    p = q + row;
  }
  if (j < hidden) {
    const s = v128.load32_splat(h + ((<usize>j) << 2));
    a0 = f32x4.add(a0, f32x4.mul(v128.load(p), s));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), s));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), s));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), s));
  }
  v128.store(out, a0);
  v128.store(out, a1, 16);
  v128.store(out, a2, 32);
  v128.store(out, a3, 48);
}

/**
 * `frames` LSTM (lstm != 0) or GRU steps, batch 1, with the fast activations (the exact recurrent path is the JS
 * twin). hp = hidden rounded up to a multiple of 4 (the padded units have zero weights and stay 0).
 *   w: rows of 4 hp floats: the biases, then one row per input column, then one per hidden column (the transposed
 *      weights: column k's weight into gate q of unit m at q * hp + m). Gates q: LSTM i, f, g, o; GRU r, z, hn, in
 *      (hn: W_hn h + b_hn, zero in the input rows; in: W_in x + b_in, zero in the hidden rows).
 *   x: frame t's inputs at x + t * xStride (floats); h: rows of hp floats, row 0 the state before the block and
 *   row t + 1 the state after frame t; c [hp]: the LSTM cell state, in place; g: scratch [4 hp].
 * Per frame the gate sums are 4 hp / 4 vectors, four at a time in registers over all columns (a frame's sums need
 * the whole previous h, so frames run one after the other); the cell update then runs on four units per vector,
 * two such groups side by side: its exp / division chains are latency-bound, and interleaving two independent
 * ones measured 1.2x faster (four: slower, V8 spills).
 */
export function streamRecurrent(
  lstm: i32,
  h: usize,
  c: usize,
  x: usize,
  xStride: i32,
  w: usize,
  g: usize,
  inputs: i32,
  hidden: i32,
  frames: i32,
): void {
  const k = K;
  const hp = (hidden + 3) & ~3;
  const hpb = (<usize>hp) << 2;
  const row = hpb << 2;
  const xb = (<usize>xStride) << 2;
  for (let t = 0; t < frames; t++) {
    const xt = x + <usize>t * xb;
    const prev = h + <usize>t * hpb;
    const next = prev + hpb;
    for (let v: usize = 0; v < row; v += 64) gates4(w + v, row, xt, inputs, prev, hidden, g + v);
    let m: usize = 0;
    if (lstm) {
      for (; m + 32 <= hpb; m += 32) lstmCell2(g + m, hpb, c + m, next + m, k);
      if (m < hpb) lstmCell1(g + m, hpb, c + m, next + m, k);
    } else {
      for (; m + 32 <= hpb; m += 32) gruCell2(g + m, hpb, prev + m, next + m, k);
      if (m < hpb) gruCell1(g + m, hpb, prev + m, next + m, k);
    }
  }
}

/**
 * A recurrent model's linear head over a block: y[o * yStride + t] = b[o] + sum_k w[o * hp + k] h[(t + 1) * hp + k]
 * for o < channels, t < frames (h as in streamRecurrent; w rows padded to hp with zeros). One f32x4 per four
 * units, then a horizontal sum.
 */
export function streamRecurrentHead(
  y: usize,
  yStride: i32,
  h: usize,
  w: usize,
  b: usize,
  hidden: i32,
  channels: i32,
  frames: i32,
): void {
  const hpb = (<usize>((hidden + 3) & ~3)) << 2;
  for (let o = 0; o < channels; o++) {
    const wo = w + <usize>o * hpb;
    const bo = load<f32>(b + ((<usize>o) << 2));
    const yo = y + ((<usize>(o * yStride)) << 2);
    for (let t = 0; t < frames; t++) {
      const row = h + <usize>(t + 1) * hpb;
      let a = f32x4.mul(v128.load(row), v128.load(wo));
      for (let v: usize = 16; v < hpb; v += 16) a = f32x4.add(a, f32x4.mul(v128.load(row + v), v128.load(wo + v)));
      a = f32x4.add(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
      a = f32x4.add(a, v128.shuffle<f32>(a, a, 1, 0, 3, 2));
      store<f32>(yo + ((<usize>t) << 2), bo + f32x4.extract_lane(a, 0));
    }
  }
}

/**
 * LSTM update of four units from their gate sums (i, f, g, o slots hpb bytes apart from q): c' = s(f) c +
 * s(i) tanh(g), h' = s(o) tanh(c'). s(i) tanh(g) and s(o) tanh(c') are one division each: sign m / ((1 + e^-i)
 * (m + 2)) with m from tanhM (<= 5e8: the product is finite unless s(i) < 1e-30, where the quotient rounds to 0 as
 * it should).
 */
function lstmCell1(q: usize, hpb: usize, c: usize, next: usize, k: usize): void {
  const one = cf(k, F_ONE);
  const two = cf(k, F_TWO);
  const sign = cf(k, F_SIGN);
  const gg = v128.load(q + 2 * hpb);
  const f = f32x4.div(one, f32x4.add(one, expF(v128.xor(v128.load(q + hpb), sign), k)));
  const mg = tanhM(gg, k);
  const ei = expF(v128.xor(v128.load(q), sign), k);
  const ig = f32x4.div(v128.or(mg, v128.and(gg, sign)), f32x4.mul(f32x4.add(one, ei), f32x4.add(mg, two)));
  const cn = f32x4.add(f32x4.mul(f, v128.load(c)), ig);
  v128.store(c, cn);
  const mc = tanhM(cn, k);
  const eo = expF(v128.xor(v128.load(q + 3 * hpb), sign), k);
  v128.store(next, f32x4.div(v128.or(mc, v128.and(cn, sign)), f32x4.mul(f32x4.add(one, eo), f32x4.add(mc, two))));
}

/** lstmCell1 for units at q and q + 16 (c + 16, next + 16), the two computed step by step side by side. */
function lstmCell2(q: usize, hpb: usize, c: usize, next: usize, k: usize): void {
  const one = cf(k, F_ONE);
  const two = cf(k, F_TWO);
  const sign = cf(k, F_SIGN);
  const gg = v128.load(q + 2 * hpb);
  const gg2 = v128.load(q + 2 * hpb, 16);
  const f = f32x4.div(one, f32x4.add(one, expF(v128.xor(v128.load(q + hpb), sign), k)));
  const f2 = f32x4.div(one, f32x4.add(one, expF(v128.xor(v128.load(q + hpb, 16), sign), k)));
  const mg = tanhM(gg, k);
  const mg2 = tanhM(gg2, k);
  const ei = expF(v128.xor(v128.load(q), sign), k);
  const ei2 = expF(v128.xor(v128.load(q, 16), sign), k);
  const ig = f32x4.div(v128.or(mg, v128.and(gg, sign)), f32x4.mul(f32x4.add(one, ei), f32x4.add(mg, two)));
  const ig2 = f32x4.div(v128.or(mg2, v128.and(gg2, sign)), f32x4.mul(f32x4.add(one, ei2), f32x4.add(mg2, two)));
  const cn = f32x4.add(f32x4.mul(f, v128.load(c)), ig);
  const cn2 = f32x4.add(f32x4.mul(f2, v128.load(c, 16)), ig2);
  v128.store(c, cn);
  v128.store(c, cn2, 16);
  const mc = tanhM(cn, k);
  const mc2 = tanhM(cn2, k);
  const eo = expF(v128.xor(v128.load(q + 3 * hpb), sign), k);
  const eo2 = expF(v128.xor(v128.load(q + 3 * hpb, 16), sign), k);
  v128.store(next, f32x4.div(v128.or(mc, v128.and(cn, sign)), f32x4.mul(f32x4.add(one, eo), f32x4.add(mc, two))));
  v128.store(next, f32x4.div(v128.or(mc2, v128.and(cn2, sign)), f32x4.mul(f32x4.add(one, eo2), f32x4.add(mc2, two))), 16);
}

/** GRU update of four units from their gate sums (r, z, hn, in slots hpb bytes apart from q). */
function gruCell1(q: usize, hpb: usize, prev: usize, next: usize, k: usize): void {
  const r = sigmoidF(v128.load(q), k);
  const z = sigmoidF(v128.load(q + hpb), k);
  const n = tanhF(f32x4.add(v128.load(q + 3 * hpb), f32x4.mul(r, v128.load(q + 2 * hpb))), k);
  v128.store(next, f32x4.add(f32x4.mul(f32x4.sub(cf(k, F_ONE), z), n), f32x4.mul(z, v128.load(prev))));
}

/** gruCell1 for units at q and q + 16, side by side. */
function gruCell2(q: usize, hpb: usize, prev: usize, next: usize, k: usize): void {
  const one = cf(k, F_ONE);
  const r = sigmoidF(v128.load(q), k);
  const r2 = sigmoidF(v128.load(q, 16), k);
  const z = sigmoidF(v128.load(q + hpb), k);
  const z2 = sigmoidF(v128.load(q + hpb, 16), k);
  const n = tanhF(f32x4.add(v128.load(q + 3 * hpb), f32x4.mul(r, v128.load(q + 2 * hpb))), k);
  const n2 = tanhF(f32x4.add(v128.load(q + 3 * hpb, 16), f32x4.mul(r2, v128.load(q + 2 * hpb, 16))), k);
  v128.store(next, f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, v128.load(prev))));
  v128.store(next, f32x4.add(f32x4.mul(f32x4.sub(one, z2), n2), f32x4.mul(z2, v128.load(prev, 16))), 16);
}
