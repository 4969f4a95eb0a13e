/**
 * Pieces the fast LSTM and GRU kernels share: scratch-buffer growth, a zero initial state, and the blocked
 * products of the backward pass (weight gradients, bias sums, dh propagation, input gradients).
 */
import type { Floats } from "../types.ts";

let zeros32: Float32Array = new Float32Array(0);
let zeros64: Float64Array = new Float64Array(0);

/** `buffer` if it holds `length` values, else a new, larger one (for module-level scratch buffers). */
export function grow(buffer: Float64Array, length: number): Float64Array {
  return buffer.length >= length ? buffer : new Float64Array(Math.max(length, 2 * buffer.length));
}

/** Shared zeros of the same element type as `like` (keeps kernels monomorphic), at least `length` long. Read only. */
export function zerosLike(like: Floats, length: number): Floats {
  if (like instanceof Float32Array) {
    if (zeros32.length < length) zeros32 = new Float32Array(length);
    return zeros32;
  }
  if (zeros64.length < length) zeros64 = new Float64Array(length);
  return zeros64;
}

/**
 * acc[accAt + j * cols + k] += sum_{n < rows} d[dAt + n * dStride + j] * src[srcAt + n * cols + k]
 * for j < count, k < cols: the weight gradient d^T src over a block of rows, 4 x 2 accumulators in registers.
 */
export function accumulateOuter(
  acc: Float64Array,
  accAt: number,
  d: Float64Array,
  dStride: number,
  dAt: number,
  count: number,
  src: Floats,
  srcAt: number,
  cols: number,
  rows: number,
): void {
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const a = accAt + j * cols;
    let k = 0;
    for (; k + 2 <= cols; k += 2) {
      let a00 = 0;
      let a01 = 0;
      let a10 = 0;
      let a11 = 0;
      let a20 = 0;
      let a21 = 0;
      let a30 = 0;
      let a31 = 0;
      let dp = dAt + j;
      let sp = srcAt + k;
      for (let n = 0; n < rows; n++, dp += dStride, sp += cols) {
        const d0 = d[dp]!;
        const d1 = d[dp + 1]!;
        const d2 = d[dp + 2]!;
        const d3 = d[dp + 3]!;
        const s0 = src[sp]!;
        const s1 = src[sp + 1]!;
        a00 += d0 * s0;
        a01 += d0 * s1;
        a10 += d1 * s0;
        a11 += d1 * s1;
        a20 += d2 * s0;
        a21 += d2 * s1;
        a30 += d3 * s0;
        a31 += d3 * s1;
      }
      acc[a + k] = acc[a + k]! + a00;
      acc[a + k + 1] = acc[a + k + 1]! + a01;
      acc[a + cols + k] = acc[a + cols + k]! + a10;
      acc[a + cols + k + 1] = acc[a + cols + k + 1]! + a11;
      acc[a + 2 * cols + k] = acc[a + 2 * cols + k]! + a20;
      acc[a + 2 * cols + k + 1] = acc[a + 2 * cols + k + 1]! + a21;
      acc[a + 3 * cols + k] = acc[a + 3 * cols + k]! + a30;
      acc[a + 3 * cols + k + 1] = acc[a + 3 * cols + k + 1]! + a31;
    }
    if (k < cols) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let dp = dAt + j;
      let sp = srcAt + k;
      for (let n = 0; n < rows; n++, dp += dStride, sp += cols) {
        const s = src[sp]!;
        a0 += d[dp]! * s;
        a1 += d[dp + 1]! * s;
        a2 += d[dp + 2]! * s;
        a3 += d[dp + 3]! * s;
      }
      acc[a + k] = acc[a + k]! + a0;
      acc[a + cols + k] = acc[a + cols + k]! + a1;
      acc[a + 2 * cols + k] = acc[a + 2 * cols + k]! + a2;
      acc[a + 3 * cols + k] = acc[a + 3 * cols + k]! + a3;
    }
  }
  for (; j < count; j++) {
    const a = accAt + j * cols;
    for (let k = 0; k < cols; k++) {
      let s = 0;
      let dp = dAt + j;
      let sp = srcAt + k;
      for (let n = 0; n < rows; n++, dp += dStride, sp += cols) s += d[dp]! * src[sp]!;
      acc[a + k] = acc[a + k]! + s;
    }
  }
}

/** acc[accAt + j] += sum_{n < rows} d[dAt + n * dStride + j] for j < count. */
export function accumulateColumnSums(
  acc: Float64Array,
  accAt: number,
  d: Float64Array,
  dStride: number,
  dAt: number,
  count: number,
  rows: number,
): void {
  for (let j = 0; j < count; j++) {
    let s0 = 0;
    let s1 = 0;
    let dp = dAt + j;
    let n = 0;
    for (; n + 2 <= rows; n += 2, dp += 2 * dStride) {
      s0 += d[dp]!;
      s1 += d[dp + dStride]!;
    }
    if (n < rows) s0 += d[dp]!;
    acc[accAt + j] = acc[accAt + j]! + (s0 + s1);
  }
}

/**
 * cr[b * hidden + k] += sum_{j < width} d[dAt + b * dStride + j] * wT[k * width + j] for b < batch, k < hidden:
 * the gradient reaching h_{t-1} through the recurrent weights (wT = wHh^T, [hidden, width]). Blocks of
 * two sequences x four units share their loads.
 */
export function propagateDh(
  cr: Float64Array,
  d: Float64Array,
  dAt: number,
  dStride: number,
  width: number,
  wT: Float64Array,
  batch: number,
  hidden: number,
): void {
  let b = 0;
  for (; b + 2 <= batch; b += 2) {
    const d0 = dAt + b * dStride;
    const d1 = d0 + dStride;
    const at = b * hidden;
    let k = 0;
    for (; k + 4 <= hidden; k += 4) {
      const w0 = k * width;
      const w1 = w0 + width;
      const w2 = w1 + width;
      const w3 = w2 + width;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let u0 = 0;
      let u1 = 0;
      let u2 = 0;
      let u3 = 0;
      for (let j = 0; j < width; j++) {
        const da = d[d0 + j]!;
        const db = d[d1 + j]!;
        const v0 = wT[w0 + j]!;
        const v1 = wT[w1 + j]!;
        const v2 = wT[w2 + j]!;
        const v3 = wT[w3 + j]!;
        s0 += v0 * da;
        s1 += v1 * da;
        s2 += v2 * da;
        s3 += v3 * da;
        u0 += v0 * db;
        u1 += v1 * db;
        u2 += v2 * db;
        u3 += v3 * db;
      }
      cr[at + k] = cr[at + k]! + s0;
      cr[at + k + 1] = cr[at + k + 1]! + s1;
      cr[at + k + 2] = cr[at + k + 2]! + s2;
      cr[at + k + 3] = cr[at + k + 3]! + s3;
      cr[at + hidden + k] = cr[at + hidden + k]! + u0;
      cr[at + hidden + k + 1] = cr[at + hidden + k + 1]! + u1;
      cr[at + hidden + k + 2] = cr[at + hidden + k + 2]! + u2;
      cr[at + hidden + k + 3] = cr[at + hidden + k + 3]! + u3;
    }
    for (; k < hidden; k++) {
      const w0 = k * width;
      let s0 = 0;
      let u0 = 0;
      for (let j = 0; j < width; j++) {
        const v = wT[w0 + j]!;
        s0 += v * d[d0 + j]!;
        u0 += v * d[d1 + j]!;
      }
      cr[at + k] = cr[at + k]! + s0;
      cr[at + hidden + k] = cr[at + hidden + k]! + u0;
    }
  }
  for (; b < batch; b++) {
    const d0 = dAt + b * dStride;
    const at = b * hidden;
    for (let k = 0; k < hidden; k++) {
      const w0 = k * width;
      let s0 = 0;
      let s1 = 0;
      let j = 0;
      for (; j + 2 <= width; j += 2) {
        s0 += wT[w0 + j]! * d[d0 + j]!;
        s1 += wT[w0 + j + 1]! * d[d0 + j + 1]!;
      }
      if (j < width) s0 += wT[w0 + j]! * d[d0 + j]!;
      cr[at + k] = cr[at + k]! + (s0 + s1);
    }
  }
}

/** dx[row][p] += sum_{j < width} d[row][j] * wIh[j][p] for the rows of one step (wT at wiT holds wIh^T). */
export function inputGradient(
  dx: Floats,
  d: Float64Array,
  dAt: number,
  wT: Float64Array,
  wiT: number,
  row0: number,
  batch: number,
  inputs: number,
  width: number,
): void {
  for (let b = 0; b < batch; b++) {
    const dRow = dAt + b * width;
    const xAt = (row0 + b) * inputs;
    for (let p = 0; p < inputs; p++) {
      const wAt = wiT + p * width;
      let s0 = 0;
      let s1 = 0;
      let j = 0;
      for (; j + 2 <= width; j += 2) {
        s0 += wT[wAt + j]! * d[dRow + j]!;
        s1 += wT[wAt + j + 1]! * d[dRow + j + 1]!;
      }
      if (j < width) s0 += wT[wAt + j]! * d[dRow + j]!;
      dx[xAt + p] = dx[xAt + p]! + (s0 + s1);
    }
  }
}
