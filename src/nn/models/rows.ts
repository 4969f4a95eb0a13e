import type { Floats } from "../kernels/types.ts";

/*
 * Row helpers for models whose valid convolutions shorten the signal: residual and skip paths line up the
 * LAST samples of a longer row with a shorter one. Rows are [rows, length] blocks (batch x channels rows).
 */

/** dst[row, t] = src[row, t + srcLength - dstLength] for every row: the last dstLength samples. */
export function copyCropped(
  dst: Floats,
  dstLength: number,
  src: Floats,
  srcLength: number,
  rows: number,
): void {
  if (srcLength === dstLength) {
    dst.set(src.subarray(0, rows * dstLength));
    return;
  }
  const offset = srcLength - dstLength;
  for (let row = 0; row < rows; row++) {
    const d = row * dstLength;
    const s = row * srcLength + offset;
    for (let t = 0; t < dstLength; t++) dst[d + t] = src[s + t]!;
  }
}

/** dst[row, t] += src[row, t + srcLength - dstLength]: adds the last dstLength samples of each src row. */
export function addCropped(
  dst: Floats,
  dstLength: number,
  src: Floats,
  srcLength: number,
  rows: number,
): void {
  if (srcLength === dstLength) {
    addAll(dst, src, rows * dstLength);
    return;
  }
  const offset = srcLength - dstLength;
  for (let row = 0; row < rows; row++) {
    const d = row * dstLength;
    const s = row * srcLength + offset;
    for (let t = 0; t < dstLength; t++) dst[d + t]! += src[s + t]!;
  }
}

/** dst[row, t + dstLength - srcLength] += src[row, t]: the adjoint of addCropped. */
export function addPadded(
  dst: Floats,
  dstLength: number,
  src: Floats,
  srcLength: number,
  rows: number,
): void {
  if (srcLength === dstLength) {
    addAll(dst, src, rows * dstLength);
    return;
  }
  const offset = dstLength - srcLength;
  for (let row = 0; row < rows; row++) {
    const d = row * dstLength + offset;
    const s = row * srcLength;
    for (let t = 0; t < srcLength; t++) dst[d + t]! += src[s + t]!;
  }
}

/**
 * dst[i] += src[i] for i < count: the equal-length case (causal padding) as one flat loop, without the row
 * bookkeeping, on these memory-bound passes over [batch, channels, 8192] activations.
 */
function addAll(dst: Floats, src: Floats, count: number): void {
  for (let i = 0; i < count; i++) dst[i]! += src[i]!;
}
