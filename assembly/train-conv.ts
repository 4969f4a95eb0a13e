/*
 * WebAssembly SIMD training kernels for conv1d (AssemblyScript; built by `npm run build:wasm`). The TS wrappers
 * (src/nn/kernels/wasm/conv.ts) stage one batch item at a time in the scratch memory: every pointer here is a
 * byte address in it, every stride and length counts float32s unless its name ends in "Bytes".
 *
 * Forward and backward-data are both a correlation over zero-padded rows:
 *   out[r, t] (+)= sum_p W(r, p) in[off(p) + t],  t < frames (a multiple of 8)
 * where a "pair" p is an (input row, tap) pair whose input starts at byte offset off(p) (a table), and W is
 * pre-splatted: one f32x4 per (row, pair), so the inner loop does plain v128 loads. Forward: rows = output
 * channels, pairs = (input channel, tap k) at c * stride + k * dilation of the padded input. Backward data:
 * rows = input channels, pairs = (output channel, tap k') over dy padded on both sides, with the filters
 * transposed and flipped (k' = K - 1 - k): the adjoint correlation runs anti-causally.
 *
 * Register blocking (measured on the 2-core Zen 4 dev machine, Node 20 / V8 11.3, which keeps 15 xmm
 * registers): four rows x eight frames = eight f32x4 accumulators, two input loads and four weight loads per
 * pair, ~37 GFLOP/s; 4 x 12 or 6 x 8 spill and run ~29, two pairs per iteration ~30, splatting the weights
 * with load32_splat instead ~35. Peak is ~58 GFLOP/s (two f32x4 multiply-adds per cycle); the relaxed-SIMD build
 * fuses each multiply-add (./fma.ts), which lifts the same block to ~50 (fewer instructions for the front end).
 *
 * Backward weights is a dot product along time: dw[o, p] += sum_t dy[o, t] in[off(p) + t], four dy rows by
 * two pairs (eight f32x4 accumulators) per pass over a time tile, each tile's lane sums added into float64
 * totals so that 16 x 8192-term sums keep float32-input precision.
 */

import { madd } from "./fma";

/** Copies `rows` rows: dst row r = `lead` zeros, src[r * srcStride + (0..len)], then `tail` zeros. */
export function convCopyRows(
  dst: usize,
  dstStride: i32,
  lead: i32,
  src: usize,
  srcStride: i32,
  len: i32,
  rows: i32,
  tail: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const d = dst + ((<usize>(r * dstStride)) << 2);
    if (lead > 0) memory.fill(d, 0, (<usize>lead) << 2);
    memory.copy(d + ((<usize>lead) << 2), src + ((<usize>(r * srcStride)) << 2), (<usize>len) << 2);
    if (tail > 0) memory.fill(d + ((<usize>(lead + len)) << 2), 0, (<usize>tail) << 2);
  }
}

/** off[a * nb + b] = a * aBytes + b * bBytes (i32): the byte offset of pair (a, b) from the group's first row. */
export function convOffsets(offs: usize, na: i32, aBytes: i32, nb: i32, bBytes: i32): void {
  for (let a = 0; a < na; a++) {
    for (let b = 0; b < nb; b++) store<i32>(offs + ((<usize>(a * nb + b)) << 2), a * aBytes + b * bBytes);
  }
}

/**
 * Pre-splats filters into blocks of four rows: for group g and row block rb, a header of four f32x4 (the
 * rows' biases, zero without bias or for rows past the group) then, per pair p = a * nb + b, four f32x4
 * (rows q = 0..3) of w[g * groupStride + row * rowStride + a * aStride + bBase + b * bStride] (rows past the
 * group get zeros). Block bytes = (1 + na * nb) * 64. Strides count floats and may be negative (flipped taps).
 */
export function convSplat(
  wv: usize,
  w: usize,
  bias: usize,
  groups: i32,
  rows: i32,
  groupStride: i32,
  rowStride: i32,
  na: i32,
  aStride: i32,
  nb: i32,
  bBase: i32,
  bStride: i32,
): void {
  const blocks = (rows + 3) >> 2;
  let at = wv;
  for (let g = 0; g < groups; g++) {
    for (let rb = 0; rb < blocks; rb++) {
      for (let q = 0; q < 4; q++) {
        const r = rb * 4 + q;
        const v: f32 = bias !== 0 && r < rows ? load<f32>(bias + ((<usize>(g * rows + r)) << 2)) : 0;
        v128.store(at + ((<usize>q) << 4), f32x4.splat(v));
      }
      at += 64;
      for (let a = 0; a < na; a++) {
        for (let b = 0; b < nb; b++) {
          for (let q = 0; q < 4; q++) {
            const r = rb * 4 + q;
            const i = g * groupStride + r * rowStride + a * aStride + bBase + b * bStride;
            const v: f32 = r < rows ? load<f32>(w + ((<usize>i) << 2)) : 0;
            v128.store(at + ((<usize>q) << 4), f32x4.splat(v));
          }
          at += 64;
        }
      }
    }
  }
}

/**
 * out[r, t] (+)= bias(r) + sum_p W(r, p) inp[g][off(p) + t] for every group g, its `rows` output rows and
 * t < frames (a multiple of 8). out rows at out + (g * rows + r) * outStride; the group's input rows start
 * at inp + g * inRows * inStride; wv from convSplat (with the same groups and rows); rows past the last
 * block of four write to `dummy` (frames floats). accumulate != 0 adds to out.
 */
export function convCorrelate(
  out: usize,
  outStride: i32,
  inp: usize,
  inStride: i32,
  inRows: i32,
  offs: usize,
  wv: usize,
  groups: i32,
  rows: i32,
  pairs: i32,
  frames: i32,
  dummy: usize,
  accumulate: i32,
): void {
  const ob = (<usize>outStride) << 2;
  const blockBytes = (<usize>(1 + pairs)) << 6;
  let block = wv;
  for (let g = 0; g < groups; g++) {
    const base = inp + <usize>(g * inRows) * ((<usize>inStride) << 2);
    const first = out + <usize>(g * rows) * ob;
    for (let r = 0; r < rows; r += 4) {
      const r0 = first + <usize>r * ob;
      const r1 = r + 1 < rows ? r0 + ob : dummy;
      const r2 = r + 2 < rows ? r0 + 2 * ob : dummy;
      const r3 = r + 3 < rows ? r0 + 3 * ob : dummy;
      rows4x8(r0, r1, r2, r3, base, offs, block, pairs, frames, accumulate);
      block += blockBytes;
    }
  }
}

/** Four output rows x eight frames per pass; the inner loop runs over the pairs (see the header). */
function rows4x8(
  r0: usize,
  r1: usize,
  r2: usize,
  r3: usize,
  base: usize,
  offs: usize,
  block: usize,
  pairs: i32,
  frames: i32,
  accumulate: i32,
): void {
  const b0 = v128.load(block);
  const b1 = v128.load(block, 16);
  const b2 = v128.load(block, 32);
  const b3 = v128.load(block, 48);
  const w = block + 64;
  const end = offs + ((<usize>pairs) << 2);
  for (let t = 0; t < frames; t += 8) {
    const tb = (<usize>t) << 2;
    let a0 = b0;
    let a0h = b0;
    let a1 = b1;
    let a1h = b1;
    let a2 = b2;
    let a2h = b2;
    let a3 = b3;
    let a3h = b3;
    if (accumulate) {
      a0 = f32x4.add(a0, v128.load(r0 + tb));
      a0h = f32x4.add(a0h, v128.load(r0 + tb, 16));
      a1 = f32x4.add(a1, v128.load(r1 + tb));
      a1h = f32x4.add(a1h, v128.load(r1 + tb, 16));
      a2 = f32x4.add(a2, v128.load(r2 + tb));
      a2h = f32x4.add(a2h, v128.load(r2 + tb, 16));
      a3 = f32x4.add(a3, v128.load(r3 + tb));
      a3h = f32x4.add(a3h, v128.load(r3 + tb, 16));
    }
    const at = base + tb;
    let wp = w;
    for (let op = offs; op < end; op += 4) {
      const p = at + <usize>load<i32>(op);
      const x = v128.load(p);
      const xh = v128.load(p, 16);
      let v = v128.load(wp);
      a0 = madd(v, x, a0);
      a0h = madd(v, xh, a0h);
      v = v128.load(wp, 16);
      a1 = madd(v, x, a1);
      a1h = madd(v, xh, a1h);
      v = v128.load(wp, 32);
      a2 = madd(v, x, a2);
      a2h = madd(v, xh, a2h);
      v = v128.load(wp, 48);
      a3 = madd(v, x, a3);
      a3h = madd(v, xh, a3h);
      wp += 64;
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
}

/**
 * dw64[g * rows + r][p] += sum_{t < frames} dy[(g * rows + r) * dyStride + t] * inp[g][off(p) + t] (float64
 * totals) for every group g, its `rows` dy rows and `pairs` pairs; dw64 rows hold pairs rounded up to even
 * (the odd pair's partner, a row of zeros, sums into the spare column). frames is a multiple of 4, taken in
 * tiles of `tile` frames (a multiple of 4). The group's input rows start at inp + g * inRows * inStride.
 * `zeros` must hold `frames` zero floats (it stands in for missing rows and pairs), `dummy` two float64s.
 */
export function convWeightDots(
  dw64: usize,
  dy: usize,
  dyStride: i32,
  inp: usize,
  inStride: i32,
  inRows: i32,
  offs: usize,
  groups: i32,
  rows: i32,
  pairs: i32,
  frames: i32,
  tile: i32,
  zeros: usize,
  dummy: usize,
): void {
  const yb = (<usize>dyStride) << 2;
  for (let t0 = 0; t0 < frames; t0 += tile) {
    const t1 = min(frames, t0 + tile);
    const tb = (<usize>t0) << 2;
    const n = t1 - t0;
    for (let g = 0; g < groups; g++) {
      const base = inp + <usize>(g * inRows) * ((<usize>inStride) << 2) + tb;
      for (let r = 0; r < rows; r += 4) {
        const o = g * rows + r;
        const d0 = dy + <usize>o * yb + tb;
        const d1 = r + 1 < rows ? d0 + yb : zeros;
        const d2 = r + 2 < rows ? d0 + 2 * yb : zeros;
        const d3 = r + 3 < rows ? d0 + 3 * yb : zeros;
        const wRow = (<usize>((pairs + 1) & ~1)) << 3;
        const w0 = dw64 + <usize>o * wRow;
        for (let p = 0; p < pairs; p += 2) {
          const x0 = base + <usize>load<i32>(offs + ((<usize>p) << 2));
          const x1 = p + 1 < pairs ? base + <usize>load<i32>(offs + ((<usize>p) << 2), 4) : zeros;
          const at = w0 + ((<usize>p) << 3);
          dots4x2(
            d0,
            d1,
            d2,
            d3,
            x0,
            x1,
            n,
            at,
            r + 1 < rows ? at + wRow : dummy,
            r + 2 < rows ? at + 2 * wRow : dummy,
            r + 3 < rows ? at + 3 * wRow : dummy,
          );
        }
      }
    }
  }
}

/** Horizontal sum of a f32x4 in float64. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function lanes(v: v128): f64 {
  return (
    <f64>f32x4.extract_lane(v, 0) +
    <f64>f32x4.extract_lane(v, 1) +
    (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3))
  );
}

/**
 * Dot products of four dy rows (d0..d3) with two input rows (x0, x1) over n frames (a multiple of 4), added
 * into float64 totals: row q's pair-0 total at wq, its pair-1 total at wq + 8.
 */
function dots4x2(
  d0: usize,
  d1: usize,
  d2: usize,
  d3: usize,
  x0: usize,
  x1: usize,
  n: i32,
  w0: usize,
  w1: usize,
  w2: usize,
  w3: usize,
): void {
  let a00 = f32x4.splat(0);
  let a01 = a00;
  let a10 = a00;
  let a11 = a00;
  let a20 = a00;
  let a21 = a00;
  let a30 = a00;
  let a31 = a00;
  const end = (<usize>n) << 2;
  for (let i: usize = 0; i < end; i += 16) {
    const u = v128.load(x0 + i);
    const v = v128.load(x1 + i);
    let d = v128.load(d0 + i);
    a00 = madd(d, u, a00);
    a01 = madd(d, v, a01);
    d = v128.load(d1 + i);
    a10 = madd(d, u, a10);
    a11 = madd(d, v, a11);
    d = v128.load(d2 + i);
    a20 = madd(d, u, a20);
    a21 = madd(d, v, a21);
    d = v128.load(d3 + i);
    a30 = madd(d, u, a30);
    a31 = madd(d, v, a31);
  }
  store<f64>(w0, load<f64>(w0) + lanes(a00));
  store<f64>(w0 + 8, load<f64>(w0 + 8) + lanes(a01));
  store<f64>(w1, load<f64>(w1) + lanes(a10));
  store<f64>(w1 + 8, load<f64>(w1 + 8) + lanes(a11));
  store<f64>(w2, load<f64>(w2) + lanes(a20));
  store<f64>(w2 + 8, load<f64>(w2 + 8) + lanes(a21));
  store<f64>(w3, load<f64>(w3) + lanes(a30));
  store<f64>(w3 + 8, load<f64>(w3 + 8) + lanes(a31));
}

/** sums64[r] += sum_{t < frames} src[r * stride + t] (frames a multiple of 4; f32x4 lanes per 1024 frames). */
export function convRowSums(sums64: usize, src: usize, stride: i32, rows: i32, frames: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = src + ((<usize>(r * stride)) << 2);
    let total: f64 = 0;
    for (let t0 = 0; t0 < frames; t0 += 1024) {
      const end = (<usize>min(frames, t0 + 1024)) << 2;
      let a = f32x4.splat(0);
      let b = a;
      let i = (<usize>t0) << 2;
      for (; i + 32 <= end; i += 32) {
        a = f32x4.add(a, v128.load(row + i));
        b = f32x4.add(b, v128.load(row + i, 16));
      }
      if (i < end) a = f32x4.add(a, v128.load(row + i));
      total += lanes(f32x4.add(a, b));
    }
    const at = sums64 + ((<usize>r) << 3);
    store<f64>(at, load<f64>(at) + total);
  }
}

/** dst[r * cols + c] = f32(dst[r * cols + c] + src64[r * srcStride + c]): float64 totals into float32 gradients. */
export function convAddTotals(dst: usize, src64: usize, rows: i32, cols: i32, srcStride: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const at = dst + ((<usize>(r * cols + c)) << 2);
      const total = load<f64>(src64 + ((<usize>(r * srcStride + c)) << 3));
      store<f32>(at, <f32>(<f64>load<f32>(at) + total));
    }
  }
}
