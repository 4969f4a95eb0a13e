/*
 * WebAssembly SIMD training kernels for dense layers (AssemblyScript; twin: src/nn/kernels/js/dense.ts).
 * Pointers are byte addresses in the scratch memory, counts and strides are floats. Layouts as
 * src/nn/kernels/types.ts: x [rows, inputs], w [outputs, inputs], y [rows, outputs].
 *
 * All three products run through one register-blocked kernel, out[q][j] (+)= sum_p S(q, p) V(p)[j] for four
 * output rows q and eight columns j per pass: per p, two f32x4 loads of V, four splatted S values, eight
 * multiply-adds (the conv kernel's blocking, see train-conv.ts):
 *   forward   y = x wT + b      rows n, columns o, p = input i:  S = x[n, i], V = wT[i, :] (w transposed)
 *   input     dx += dy w        rows n, columns i, p = output o: S = dy[n, o], V = w[o, :]
 *   weights   dw += dy^T x      rows o, columns i, p = row n:    S = dy[n, o], V = x[n, :]
 * The four S values of a pair sit next to each other (at s + p * sPair + 4 q), so the splats use immediate
 * offsets instead of four row pointers (~9% faster: fewer address computations in V8's code): dy[n, o..o+3]
 * already does for the weights; x and dy are first repacked into quads of rows (denseQuads) for the other two.
 * Column counts are padded to a multiple of 8 by the wrapper (zero columns); rows past the end write to a
 * dummy row.
 */

import { madd } from "./fma";

/**
 * out rows r0..r3, columns [0, cols) (a multiple of 8): out[q][j] = (accumulate ? out[q][j] : bias[j]) +
 * sum_{p < pairs} S(q, p) V(p)[j], S(q, p) = f32 at s + p * sPair + 4 q bytes, V(p) at v + p * vPair bytes.
 * bias: cols floats, or 0 for none.
 */
function rows4x8(
  r0: usize,
  r1: usize,
  r2: usize,
  r3: usize,
  s: usize,
  sPair: usize,
  v: usize,
  vPair: usize,
  pairs: i32,
  cols: i32,
  bias: usize,
  accumulate: i32,
): void {
  const end = s + <usize>pairs * sPair;
  for (let j = 0; j < cols; j += 8) {
    const jb = (<usize>j) << 2;
    let a0 = f32x4.splat(0);
    let a0h = a0;
    if (bias !== 0) {
      a0 = v128.load(bias + jb);
      a0h = v128.load(bias + jb, 16);
    }
    let a1 = a0;
    let a1h = a0h;
    let a2 = a0;
    let a2h = a0h;
    let a3 = a0;
    let a3h = a0h;
    if (accumulate) {
      a0 = v128.load(r0 + jb);
      a0h = v128.load(r0 + jb, 16);
      a1 = v128.load(r1 + jb);
      a1h = v128.load(r1 + jb, 16);
      a2 = v128.load(r2 + jb);
      a2h = v128.load(r2 + jb, 16);
      a3 = v128.load(r3 + jb);
      a3h = v128.load(r3 + jb, 16);
    }
    let vp = v + jb;
    for (let sp = s; sp < end; sp += sPair) {
      const x = v128.load(vp);
      const xh = v128.load(vp, 16);
      let c = v128.load32_splat(sp);
      a0 = madd(c, x, a0);
      a0h = madd(c, xh, a0h);
      c = v128.load32_splat(sp, 4);
      a1 = madd(c, x, a1);
      a1h = madd(c, xh, a1h);
      c = v128.load32_splat(sp, 8);
      a2 = madd(c, x, a2);
      a2h = madd(c, xh, a2h);
      c = v128.load32_splat(sp, 12);
      a3 = madd(c, x, a3);
      a3h = madd(c, xh, a3h);
      vp += vPair;
    }
    v128.store(r0 + jb, a0);
    v128.store(r0 + jb, a0h, 16);
    v128.store(r1 + jb, a1);
    v128.store(r1 + jb, a1h, 16);
    v128.store(r2 + jb, a2);
    v128.store(r2 + jb, a2h, 16);
    v128.store(r3 + jb, a3);
    v128.store(r3 + jb, a3h, 16);
  }
}

/**
 * Rows [0, rows) of out (row stride cols), four at a time: block nb reads its S values at s + nb * sBlock
 * (see rows4x8). Rows past the end write to `dummy` (cols floats).
 */
function blockRows(
  out: usize,
  rows: i32,
  s: usize,
  sBlock: usize,
  sPair: usize,
  v: usize,
  vPair: usize,
  pairs: i32,
  cols: i32,
  bias: usize,
  accumulate: i32,
  dummy: usize,
): void {
  const ob = (<usize>cols) << 2;
  for (let n = 0; n < rows; n += 4) {
    const r0 = out + <usize>n * ob;
    const s0 = s + (<usize>(n >> 2)) * sBlock;
    rows4x8(
      r0,
      n + 1 < rows ? r0 + ob : dummy,
      n + 2 < rows ? r0 + 2 * ob : dummy,
      n + 3 < rows ? r0 + 3 * ob : dummy,
      s0,
      sPair,
      v,
      vPair,
      pairs,
      cols,
      bias,
      accumulate,
    );
  }
}

/**
 * Repacks src [rows, cols] into quads of rows: dst[(nb * cols + i) * 4 + q] = src[4 nb + q, i] (rows past the
 * end repeat the last row), so that a pair's four S values are adjacent. 4 x 4 blocks transposed with shuffles.
 */
export function denseQuads(dst: usize, src: usize, rows: i32, cols: i32): void {
  const rb = (<usize>cols) << 2;
  for (let n = 0; n < rows; n += 4) {
    const p0 = src + <usize>n * rb;
    const p1 = n + 1 < rows ? p0 + rb : p0;
    const p2 = n + 2 < rows ? p0 + 2 * rb : n + 1 < rows ? p1 : p0;
    const p3 = n + 3 < rows ? p0 + 3 * rb : p2;
    const out = dst + <usize>n * rb;
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const ib = (<usize>i) << 2;
      const a = v128.load(p0 + ib);
      const b = v128.load(p1 + ib);
      const c = v128.load(p2 + ib);
      const d = v128.load(p3 + ib);
      const ab0 = f32x4.shuffle(a, b, 0, 4, 1, 5);
      const ab1 = f32x4.shuffle(a, b, 2, 6, 3, 7);
      const cd0 = f32x4.shuffle(c, d, 0, 4, 1, 5);
      const cd1 = f32x4.shuffle(c, d, 2, 6, 3, 7);
      const at = out + (ib << 2);
      v128.store(at, f32x4.shuffle(ab0, cd0, 0, 1, 4, 5));
      v128.store(at, f32x4.shuffle(ab0, cd0, 2, 3, 6, 7), 16);
      v128.store(at, f32x4.shuffle(ab1, cd1, 0, 1, 4, 5), 32);
      v128.store(at, f32x4.shuffle(ab1, cd1, 2, 3, 6, 7), 48);
    }
    for (; i < cols; i++) {
      const ib = (<usize>i) << 2;
      const at = out + (ib << 2);
      store<f32>(at, load<f32>(p0 + ib));
      store<f32>(at, load<f32>(p1 + ib), 4);
      store<f32>(at, load<f32>(p2 + ib), 8);
      store<f32>(at, load<f32>(p3 + ib), 12);
    }
  }
}

/** wT[i, o] = w[o, i] for o < outputs, 0 for outputs <= o < cols: w [outputs, inputs] -> wT [inputs, cols]. */
export function denseTranspose(wT: usize, w: usize, outputs: i32, inputs: i32, cols: i32): void {
  for (let i = 0; i < inputs; i++) {
    for (let o = 0; o < cols; o++) {
      const v: f32 = o < outputs ? load<f32>(w + ((<usize>(o * inputs + i)) << 2)) : 0;
      store<f32>(wT + ((<usize>(i * cols + o)) << 2), v);
    }
  }
}

/** y [rows, cols] = x wT + bias (cols floats, or 0): xq = x [rows, inputs] in quads (denseQuads), wT [inputs, cols]. */
export function denseForwardF32(
  y: usize,
  xq: usize,
  wT: usize,
  bias: usize,
  rows: i32,
  inputs: i32,
  cols: i32,
  dummy: usize,
): void {
  const quad = (<usize>inputs) << 4;
  blockRows(y, rows, xq, quad, 16, wT, (<usize>cols) << 2, inputs, cols, bias, 0, dummy);
}

/** dx [rows, cols] += dy w: dyq = dy [rows, outputs] in quads, w [outputs, cols]. */
export function denseInputGradF32(
  dx: usize,
  dyq: usize,
  w: usize,
  rows: i32,
  outputs: i32,
  cols: i32,
  dummy: usize,
): void {
  const quad = (<usize>outputs) << 4;
  blockRows(dx, rows, dyq, quad, 16, w, (<usize>cols) << 2, outputs, cols, 0, 1, dummy);
}

/**
 * y [rows, cols] = x wT + bias for the windows of one signal: row n is x[n .. n + inputs) (a sliding window,
 * rows one sample apart), read in place: S(q, p) = x[n + q + p] sits at 4 (q + p) bytes from x[n], the layout
 * rows4x8 expects with sPair = 4. Reads up to 3 floats past the last window (rows past `rows` go to `dummy`).
 */
export function denseForwardWindows(
  y: usize,
  x: usize,
  wT: usize,
  bias: usize,
  rows: i32,
  inputs: i32,
  cols: i32,
  dummy: usize,
): void {
  blockRows(y, rows, x, 16, 4, wT, (<usize>cols) << 2, inputs, cols, bias, 0, dummy);
}

/**
 * dw [outputs, cols] += dy [rows, outputs]^T x, x's rows `xStride` floats apart (cols, or 1 for the sliding
 * windows of one signal), in chunks of `chunk` rows so that the chunk of x stays in L2 while every block of
 * four outputs passes over it. The S values of outputs o..o+3 are dy[n, o..o+3]: past the last output they
 * read the next floats (up to 3 past dy's end), for dummy rows only.
 */
export function denseWeightGradF32(
  dw: usize,
  dy: usize,
  x: usize,
  xStride: i32,
  rows: i32,
  outputs: i32,
  cols: i32,
  chunk: i32,
  dummy: usize,
): void {
  const yRow = (<usize>outputs) << 2;
  const xRow = (<usize>xStride) << 2;
  for (let n = 0; n < rows; n += chunk) {
    const count = min(chunk, rows - n);
    blockRows(dw, outputs, dy + <usize>n * yRow, 16, yRow, x + <usize>n * xRow, xRow, count, cols, 0, 1, dummy);
  }
}

/** sums64[o] += sum_n dy[n, o] (float64 per column; 64-bit lanes, two columns per f64x2 where outputs is even). */
export function denseColumnSums(sums64: usize, dy: usize, rows: i32, outputs: i32): void {
  const row = (<usize>outputs) << 2;
  let o = 0;
  for (; o + 2 <= outputs; o += 2) {
    let total = f64x2.splat(0);
    let at = dy + ((<usize>o) << 2);
    for (let n = 0; n < rows; n++) {
      total = f64x2.add(total, f64x2.promote_low_f32x4(v128.load64_zero(at)));
      at += row;
    }
    const to = sums64 + ((<usize>o) << 3);
    v128.store(to, f64x2.add(v128.load(to), total));
  }
  for (; o < outputs; o++) {
    let total: f64 = 0;
    for (let n = 0; n < rows; n++) total += <f64>load<f32>(dy + <usize>n * row + ((<usize>o) << 2));
    const to = sums64 + ((<usize>o) << 3);
    store<f64>(to, load<f64>(to) + total);
  }
}
