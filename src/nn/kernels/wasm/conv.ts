import * as js from "../js/conv.ts";
import { type ConvShape, convOutLength, type Floats } from "../types.ts";
import { fn, isF32, stage, unstage } from "./activations.ts";
import { wasmScratch } from "./scratch.ts";

/*
 * Wasm SIMD conv1d kernels (assembly/train-conv.ts) with the Kernels signatures; the JS twin (../js/conv.ts)
 * runs whenever an operand is not a Float32Array. Layouts as ../types.ts: x [batch, inChannels, inLength],
 * w [outChannels, inChannels / groups, kernelSize], y [batch, outChannels, outLength].
 *
 * One batch item at a time: its rows are copied into the scratch memory (one memcpy), laid out by the wasm
 * into zero-padded rows so that every tap of every computed frame reads memory (the causal zeros, and zeros
 * past the end up to a whole block of 8 frames), run through the kernel, packed and copied back. A batch item
 * of the TCN (16 x 8192 in, 32 x 8192 out) is ~1.5 MiB, so the staged rows stay in L2/L3 while the kernel runs.
 * Nothing is allocated once the scratch memory has grown to the largest call (the copies go through cached
 * views, ./activations.ts `slice`).
 */

/** Frames per tile of the backward-weights dot products (float32 lane sums, then added in float64). */
const TILE = 512;

const up = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * A row stride of at least n floats for the kernels' input rows: a multiple of 16 floats (64 bytes) that is an
 * odd multiple, so that rows r * stride apart fall in different L1 sets (mod 4 KiB) for r < 64. Rows a
 * multiple of 4 KiB apart (e.g. 8192 samples) alias in L1: the 1x1 16 -> 16 conv ran at ~21 GFLOP/s on them
 * and ~34 on skewed rows.
 */
function rowStride(n: number): number {
  const stride = up(n, 16);
  return (stride / 16) % 2 === 0 ? stride + 16 : stride;
}

/**
 * y[b, o, t] = bias[o] + sum_{j, k} w[o, j, k] x[b, g * inPerGroup + j, t - padLeft + k * dilation] (zeros outside
 * the input). Padded input row: padLeft zeros, the inLength samples, zeros to xStride >= frames + span.
 */
export function conv1dForward(y: Floats, x: Floats, w: Floats, bias: Floats | null, shape: ConvShape): void {
  if (!(isF32(y) && isF32(x) && isF32(w) && isF32(bias))) {
    js.conv1dForward(y, x, w, bias, shape);
    return;
  }
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  if (outLength <= 0) return;
  const inPer = inChannels / groups;
  const outPer = outChannels / groups;
  const pairs = inPer * kernelSize;
  const span = (kernelSize - 1) * dilation;
  const frames = up(outLength, 8);
  const xStride = rowStride(frames + span);
  const scratch = wasmScratch();
  const mark = scratch.mark();
  const xStaged = scratch.reserve(inChannels * inLength);
  const xPadded = scratch.reserve(inChannels * xStride);
  const yPadded = scratch.reserve(outChannels * frames);
  const yPacked = frames === outLength ? yPadded : scratch.reserve(outChannels * outLength);
  const offsets = scratch.reserve(pairs);
  const wv = scratch.reserve(groups * Math.ceil(outPer / 4) * (1 + pairs) * 16);
  const dummy = scratch.reserve(frames);
  const wAt = scratch.reserve(outChannels * pairs);
  const biasAt = bias === null ? 0 : scratch.reserve(outChannels);
  const heap = scratch.heap;
  stage(heap, wAt, w, 0, outChannels * pairs);
  if (bias !== null) stage(heap, biasAt, bias, 0, outChannels);
  const K = kernelSize;
  fn(scratch, "convOffsets")(offsets, inPer, xStride * 4, K, dilation * 4);
  fn(scratch, "convSplat")(wv, wAt, biasAt, groups, outPer, outPer * pairs, pairs, inPer, K, K, 0, 1);
  const copyRows = fn(scratch, "convCopyRows");
  const correlate = fn(scratch, "convCorrelate");
  const xItem = inChannels * inLength;
  const yItem = outChannels * outLength;
  const xTail = xStride - padLeft - inLength;
  for (let b = 0; b < batch; b++) {
    stage(heap, xStaged, x, b * xItem, xItem);
    copyRows(xPadded, xStride, padLeft, xStaged, inLength, inLength, inChannels, xTail);
    correlate(yPadded, frames, xPadded, xStride, inPer, offsets, wv, groups, outPer, pairs, frames, dummy, 0);
    if (yPacked !== yPadded) copyRows(yPacked, outLength, 0, yPadded, frames, outLength, outChannels, 0);
    unstage(heap, yPacked, y, b * yItem, yItem);
  }
  scratch.release(mark);
}

/**
 * dx[b, i, s] += sum_{o, k} w[o, j, k] dy[b, o, s + padLeft - k * dilation]: a correlation of dy with the
 * filters transposed and flipped, dx[s] += sum_{o, k'} w[o, j, K-1-k'] dyPadded[o, s + shift + k' * dilation],
 * over dy rows padded with `lead` = max(0, span - padLeft) zeros (shift = padLeft - span + lead >= 0) and zeros
 * to the end of the row.
 */
export function conv1dBackwardData(dx: Floats, dy: Floats, w: Floats, shape: ConvShape): void {
  if (!(isF32(dx) && isF32(dy) && isF32(w))) {
    js.conv1dBackwardData(dx, dy, w, shape);
    return;
  }
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  if (outLength <= 0) return;
  const inPer = inChannels / groups;
  const outPer = outChannels / groups;
  const pairs = outPer * kernelSize;
  const span = (kernelSize - 1) * dilation;
  const frames = up(inLength, 8);
  const lead = Math.max(0, span - padLeft);
  const shift = padLeft - span + lead;
  const dyStride = rowStride(shift + frames + span);
  const scratch = wasmScratch();
  const mark = scratch.mark();
  const dyStaged = scratch.reserve(outChannels * outLength);
  const dyPadded = scratch.reserve(outChannels * dyStride);
  const dxPadded = scratch.reserve(inChannels * frames);
  const dxPacked = frames === inLength ? dxPadded : scratch.reserve(inChannels * inLength);
  const offsets = scratch.reserve(pairs);
  const wv = scratch.reserve(groups * Math.ceil(inPer / 4) * (1 + pairs) * 16);
  const dummy = scratch.reserve(frames);
  const wAt = scratch.reserve(outChannels * inPer * kernelSize);
  const heap = scratch.heap;
  stage(heap, wAt, w, 0, outChannels * inPer * kernelSize);
  const K = kernelSize;
  fn(scratch, "convOffsets")(offsets, outPer, dyStride * 4, K, dilation * 4);
  // Row j of group g, pair (o, k'): w[g * outPer + o, j, K - 1 - k'].
  fn(scratch, "convSplat")(wv, wAt, 0, groups, inPer, outPer * inPer * K, K, outPer, inPer * K, K, K - 1, -1);
  const copyRows = fn(scratch, "convCopyRows");
  const correlate = fn(scratch, "convCorrelate");
  const xItem = inChannels * inLength;
  const yItem = outChannels * outLength;
  const dyTail = dyStride - lead - outLength;
  for (let b = 0; b < batch; b++) {
    stage(heap, dyStaged, dy, b * yItem, yItem);
    copyRows(dyPadded, dyStride, lead, dyStaged, outLength, outLength, outChannels, dyTail);
    stage(heap, dxPacked, dx, b * xItem, xItem);
    if (dxPacked !== dxPadded) copyRows(dxPadded, frames, 0, dxPacked, inLength, inLength, inChannels, 0);
    const from = dyPadded + shift * 4;
    correlate(dxPadded, frames, from, dyStride, outPer, offsets, wv, groups, inPer, pairs, frames, dummy, 1);
    if (dxPacked !== dxPadded) copyRows(dxPacked, inLength, 0, dxPadded, frames, inLength, inChannels, 0);
    unstage(heap, dxPacked, dx, b * xItem, xItem);
  }
  scratch.release(mark);
}

/**
 * dw[o, j, k] += sum_{b, t} dy[b, o, t] x[b, g * inPerGroup + j, t - padLeft + k * dilation]; dbias[o] += sum_{b, t}
 * dy[b, o, t]. Both summed in float64 over the whole batch (float32 f32x4 lanes within a TILE), then added to
 * the float32 gradients once. dy rows are padded with zeros to a multiple of 4 frames.
 */
export function conv1dBackwardWeights(
  dw: Floats,
  dbias: Floats | null,
  dy: Floats,
  x: Floats,
  shape: ConvShape,
): void {
  if (!(isF32(dw) && isF32(dbias) && isF32(dy) && isF32(x))) {
    js.conv1dBackwardWeights(dw, dbias, dy, x, shape);
    return;
  }
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  if (outLength <= 0) return;
  const inPer = inChannels / groups;
  const outPer = outChannels / groups;
  const pairs = inPer * kernelSize;
  const evenPairs = pairs + (pairs & 1);
  const span = (kernelSize - 1) * dilation;
  const frames = up(outLength, 4);
  const xStride = rowStride(frames + span);
  const dyStride = rowStride(frames);
  const scratch = wasmScratch();
  const mark = scratch.mark();
  const xStaged = scratch.reserve(inChannels * inLength);
  const xPadded = scratch.reserve(inChannels * xStride);
  const dyStaged = scratch.reserve(outChannels * outLength);
  const dyPadded = scratch.reserve(outChannels * dyStride);
  const offsets = scratch.reserve(pairs);
  const totals = scratch.reserve(2 * outChannels * evenPairs, true); // float64
  const biasTotals = scratch.reserve(2 * outChannels, true); // float64
  const zeros = scratch.reserve(frames, true);
  const dummy = scratch.reserve(4);
  const dwAt = scratch.reserve(outChannels * pairs);
  const dbAt = scratch.reserve(outChannels);
  const heap = scratch.heap;
  fn(scratch, "convOffsets")(offsets, inPer, xStride * 4, kernelSize, dilation * 4);
  const copyRows = fn(scratch, "convCopyRows");
  const dots = fn(scratch, "convWeightDots");
  const rowSums = fn(scratch, "convRowSums");
  const xItem = inChannels * inLength;
  const yItem = outChannels * outLength;
  const xTail = xStride - padLeft - inLength;
  for (let b = 0; b < batch; b++) {
    stage(heap, xStaged, x, b * xItem, xItem);
    copyRows(xPadded, xStride, padLeft, xStaged, inLength, inLength, inChannels, xTail);
    stage(heap, dyStaged, dy, b * yItem, yItem);
    copyRows(dyPadded, dyStride, 0, dyStaged, outLength, outLength, outChannels, dyStride - outLength);
    const groupRows = inPer;
    dots(
      totals,
      dyPadded,
      dyStride,
      xPadded,
      xStride,
      groupRows,
      offsets,
      groups,
      outPer,
      pairs,
      frames,
      TILE,
      zeros,
      dummy,
    );
    if (dbias !== null) rowSums(biasTotals, dyPadded, dyStride, outChannels, frames);
  }
  const addTotals = fn(scratch, "convAddTotals");
  stage(heap, dwAt, dw, 0, outChannels * pairs);
  addTotals(dwAt, totals, outChannels, pairs, evenPairs);
  unstage(heap, dwAt, dw, 0, outChannels * pairs);
  if (dbias !== null) {
    stage(heap, dbAt, dbias, 0, outChannels);
    addTotals(dbAt, biasTotals, 1, outChannels, outChannels);
    unstage(heap, dbAt, dbias, 0, outChannels);
  }
  scratch.release(mark);
}
