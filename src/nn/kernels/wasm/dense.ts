import * as js from "../js/dense.ts";
import type { DenseShape, Floats } from "../types.ts";
import { fn, isF32, stage, unstage } from "./activations.ts";
import { wasmScratch } from "./scratch.ts";

/*
 * Wasm SIMD dense kernels (assembly/train-dense.ts) with the Kernels signatures; the JS twin (../js/dense.ts)
 * runs whenever an operand is not a Float32Array. x [rows, inputs], w [outputs, inputs], y [rows, outputs].
 * The kernels vectorise along the output's columns, so a column count that is not a multiple of 8 is padded
 * with zero columns in the scratch copies (the MLP's 64 -> 1 head runs 8 columns, 7 of them zero).
 */

/** Rows of x per pass of the weight gradient: a 128 x 256 chunk of x (128 KiB) stays in L2. */
const CHUNK = 128;

/** Rows per staged block of the forward pass (x 256 KiB + its quads + y for the MLP's 256 -> 64 layer). */
const ROWS = 256;

const up8 = (n: number): number => Math.ceil(n / 8) * 8;
const up4 = (n: number): number => Math.ceil(n / 4) * 4;

/** y = x w^T + b (b may be null). */
export function denseForward(y: Floats, x: Floats, w: Floats, b: Floats | null, shape: DenseShape): void {
  if (!(isF32(y) && isF32(x) && isF32(w) && isF32(b))) {
    js.denseForward(y, x, w, b, shape);
    return;
  }
  const { rows, inputs, outputs } = shape;
  const cols = up8(outputs);
  const block = Math.min(rows, ROWS);
  const scratch = wasmScratch();
  const mark = scratch.mark();
  const xAt = scratch.reserve(block * inputs);
  const xQuads = scratch.reserve(up4(block) * inputs);
  const wAt = scratch.reserve(outputs * inputs);
  const wT = scratch.reserve(inputs * cols);
  const biasAt = b === null ? 0 : scratch.reserve(cols, true);
  const yPadded = scratch.reserve(block * cols);
  const yPacked = cols === outputs ? yPadded : scratch.reserve(block * outputs);
  const dummy = scratch.reserve(cols);
  const heap = scratch.heap;
  stage(heap, wAt, w, 0, outputs * inputs);
  if (b !== null) stage(heap, biasAt, b, 0, outputs);
  fn(scratch, "denseTranspose")(wT, wAt, outputs, inputs, cols);
  const quads = fn(scratch, "denseQuads");
  const forward = fn(scratch, "denseForwardF32");
  const copyRows = fn(scratch, "convCopyRows");
  // A block of rows at a time: its staged x, quads and y stay in L2.
  for (let n0 = 0; n0 < rows; n0 += block) {
    const n = Math.min(block, rows - n0);
    stage(heap, xAt, x, n0 * inputs, n * inputs);
    quads(xQuads, xAt, n, inputs);
    forward(yPadded, xQuads, wT, biasAt, n, inputs, cols, dummy);
    if (yPacked !== yPadded) copyRows(yPacked, outputs, 0, yPadded, cols, outputs, n, 0);
    unstage(heap, yPacked, y, n0 * outputs, n * outputs);
  }
  scratch.release(mark);
}

/** dx += dy w (dx may be null); dw += dy^T x; db += column sums of dy (db may be null). */
export function denseBackward(
  dx: Floats | null,
  dw: Floats,
  db: Floats | null,
  dy: Floats,
  x: Floats,
  w: Floats,
  shape: DenseShape,
): void {
  if (!(isF32(dx) && isF32(dw) && isF32(db) && isF32(dy) && isF32(x) && isF32(w))) {
    js.denseBackward(dx, dw, db, dy, x, w, shape);
    return;
  }
  const { rows, inputs, outputs } = shape;
  const cols = up8(inputs);
  const padded = cols !== inputs;
  const scratch = wasmScratch();
  const mark = scratch.mark();
  const dyAt = scratch.reserve(rows * outputs + 4); // + 4: the weight gradient's S reads past the last output
  const dyQuads = dx === null ? 0 : scratch.reserve(up4(rows) * outputs);
  const xAt = scratch.reserve(rows * inputs);
  const xPadded = padded ? scratch.reserve(rows * cols) : xAt;
  const dwAt = scratch.reserve(outputs * inputs);
  const dwPadded = padded ? scratch.reserve(outputs * cols) : dwAt;
  const wAt = dx === null ? 0 : scratch.reserve(outputs * inputs);
  const wPadded = dx !== null && padded ? scratch.reserve(outputs * cols) : wAt;
  const dxAt = dx === null ? 0 : scratch.reserve(rows * inputs);
  const dxPadded = dx !== null && padded ? scratch.reserve(rows * cols) : dxAt;
  const sums = db === null ? 0 : scratch.reserve(2 * outputs, true); // float64
  const dbAt = db === null ? 0 : scratch.reserve(outputs);
  const dummy = scratch.reserve(cols);
  const heap = scratch.heap;
  stage(heap, dyAt, dy, 0, rows * outputs);
  stage(heap, xAt, x, 0, rows * inputs);
  stage(heap, dwAt, dw, 0, outputs * inputs);
  if (dx !== null) {
    stage(heap, wAt, w, 0, outputs * inputs);
    stage(heap, dxAt, dx, 0, rows * inputs);
  }
  // Padding copies: rows of `inputs` floats to rows of `cols` (zeros after) and back.
  const copyRows = fn(scratch, "convCopyRows");
  const tail = cols - inputs;
  if (padded) {
    copyRows(xPadded, cols, 0, xAt, inputs, inputs, rows, tail);
    copyRows(dwPadded, cols, 0, dwAt, inputs, inputs, outputs, tail);
  }
  fn(scratch, "denseWeightGradF32")(dwPadded, dyAt, xPadded, cols, rows, outputs, cols, CHUNK, dummy);
  if (padded) copyRows(dwAt, inputs, 0, dwPadded, cols, inputs, outputs, 0);
  unstage(heap, dwAt, dw, 0, outputs * inputs);
  if (dx !== null) {
    if (padded) {
      copyRows(wPadded, cols, 0, wAt, inputs, inputs, outputs, tail);
      copyRows(dxPadded, cols, 0, dxAt, inputs, inputs, rows, tail);
    }
    fn(scratch, "denseQuads")(dyQuads, dyAt, rows, outputs);
    fn(scratch, "denseInputGradF32")(dxPadded, dyQuads, wPadded, rows, outputs, cols, dummy);
    if (padded) copyRows(dxAt, inputs, 0, dxPadded, cols, inputs, rows, 0);
    unstage(heap, dxAt, dx, 0, rows * inputs);
  }
  if (db !== null) {
    fn(scratch, "denseColumnSums")(sums, dyAt, rows, outputs);
    stage(heap, dbAt, db, 0, outputs);
    fn(scratch, "convAddTotals")(dbAt, sums, 1, outputs, outputs);
    unstage(heap, dbAt, db, 0, outputs);
  }
  scratch.release(mark);
}
