import type { ConvShape, Floats } from "../types.ts";
import { convOutLength } from "../types.ts";

/*
 * Fast plain-JS conv1d (reference twin: ../reference/conv.ts). Memory orders as in ../types.ts:
 *   x [batch, inChannels, inLength], w [outChannels, inChannels / groups, kernelSize],
 *   y [batch, outChannels, outLength], outLength = inLength + padLeft - (kernelSize - 1) * dilation.
 *
 * Forward and backward-data are one computation, a multi-channel correlation
 *   out[r, t] += sum_{c, k} W(r, c, k) in[c, t + offset + k * step]
 * (forward: in = x, offset = -padLeft, step = +dilation; backward-data: in = dy, offset = +padLeft,
 * step = -dilation, the filters read transposed), so both run through `correlate`. Each (input channel, tap)
 * pair is a shifted input row. The time axis splits into an interior, where every pair's row lands inside
 * the input for every t (no bounds tests at all), and the edges, where each pair's valid time range is
 * computed once. The interior runs in time tiles of TILE samples: four output rows stay in L1 while the
 * pairs stream past four at a time, so every sample step does 4 input loads and 4 output read-modify-writes
 * for 16 multiply-adds, with the 16 filter values held in locals. Nothing here allocates.
 *
 * Measured on the 2-core Zen 4 dev machine (Node 20, float32, batch 16 x 8192): the kernel-3 16 -> 32 TCN
 * conv runs at ~3.6-4.4 GFLOP/s in all three kernels, the 1x1 16 -> 16 conv at ~3.0-3.6. Rows whose length is
 * a multiple of 1024 samples (4 KiB) alias in L1 and lose ~20% (e.g. inLength 9216 with dilation 512).
 * Kernels see Float32Array in training and Float64Array in gradient checks; a process that feeds both to
 * the same kernel makes V8's code polymorphic and ~25% slower, so keep training processes float32-only.
 */

/** Time-tile length (samples): 4 output rows of it stay in L1 while the input pairs stream past. */
const TILE = 512;

/**
 * y[b, o, t] = bias[o] + sum_{j, k} w[o, j, k] x[b, g * inPerGroup + j, t - padLeft + k * dilation], o in group g;
 * taps outside [0, inLength) read zero. y is overwritten; bias may be null.
 */
export function conv1dForward(y: Floats, x: Floats, w: Floats, bias: Floats | null, shape: ConvShape): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  if (outLength <= 0) return;
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const groupWeights = outPerGroup * inPerGroup * kernelSize;
  for (let g = 0; g < groups; g++) {
    correlate(
      y,
      outChannels,
      g * outPerGroup,
      outPerGroup,
      outLength,
      x,
      inChannels,
      g * inPerGroup,
      inPerGroup,
      inLength,
      w,
      g * groupWeights,
      inPerGroup * kernelSize,
      kernelSize,
      kernelSize,
      -padLeft,
      dilation,
      batch,
      true,
      bias,
    );
  }
}

/**
 * dx[b, i, s] += sum_{o, k} w[o, j, k] dy[b, o, s + padLeft - k * dilation] (i = g * inPerGroup + j, o in
 * group g; dy outside [0, outLength) reads zero): the forward correlation run backwards over the taps.
 */
export function conv1dBackwardData(dx: Floats, dy: Floats, w: Floats, shape: ConvShape): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  if (outLength <= 0) return;
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const groupWeights = outPerGroup * inPerGroup * kernelSize;
  for (let g = 0; g < groups; g++) {
    correlate(
      dx,
      inChannels,
      g * inPerGroup,
      inPerGroup,
      inLength,
      dy,
      outChannels,
      g * outPerGroup,
      outPerGroup,
      outLength,
      w,
      g * groupWeights,
      kernelSize,
      inPerGroup * kernelSize,
      kernelSize,
      padLeft,
      -dilation,
      batch,
      false,
      null,
    );
  }
}

/**
 * out[b, outFirst + r, t] += sum_{c < inCount, k < taps} w[wBase + r * wRowStride + c * wInStride + k]
 *                                                         * inp[b, inFirst + c, t + offset + k * step]
 * for r < outCount, t < outLength; taps landing outside [0, inLength) read zero. `outChannels` / `inChannels`
 * are the channel counts of the whole out / inp tensors (their batch strides).
 */
function correlate(
  out: Floats,
  outChannels: number,
  outFirst: number,
  outCount: number,
  outLength: number,
  inp: Floats,
  inChannels: number,
  inFirst: number,
  inCount: number,
  inLength: number,
  w: Floats,
  wBase: number,
  wRowStride: number,
  wInStride: number,
  taps: number,
  offset: number,
  step: number,
  batch: number,
  overwrite: boolean,
  bias: Floats | null,
): void {
  // Interior [tA, tB): every tap of every t lands inside the input.
  const span = (taps - 1) * step;
  const tA = Math.min(outLength, Math.max(0, -(offset + Math.min(0, span))));
  const tB = Math.max(tA, Math.min(outLength, inLength - (offset + Math.max(0, span))));
  for (let b = 0; b < batch; b++) {
    const inStart = (b * inChannels + inFirst) * inLength;
    const outStart = (b * outChannels + outFirst) * outLength;
    // Time tiles outermost: the tile's input window stays in cache while every output row block passes.
    for (let t0 = tA; t0 < tB; t0 += TILE) {
      const t1 = Math.min(tB, t0 + TILE);
      if (overwrite) fillRows(out, outStart, outLength, outCount, bias, outFirst, t0, t1);
      let r = 0;
      for (; r + 4 <= outCount; r += 4) {
        interior4(
          out,
          outStart + r * outLength,
          outLength,
          inp,
          inStart + offset,
          inCount * taps,
          inLength,
          w,
          wBase + r * wRowStride,
          wRowStride,
          wInStride,
          taps,
          step,
          t0,
          t1,
        );
      }
      for (; r < outCount; r++) {
        interior1(
          out,
          outStart + r * outLength,
          inp,
          inStart + offset,
          inCount * taps,
          inLength,
          w,
          wBase + r * wRowStride,
          wInStride,
          taps,
          step,
          t0,
          t1,
        );
      }
    }
    if (overwrite) {
      fillRows(out, outStart, outLength, outCount, bias, outFirst, 0, tA);
      fillRows(out, outStart, outLength, outCount, bias, outFirst, tB, outLength);
    }
    let r = 0;
    for (; r + 4 <= outCount; r += 4) {
      const row0 = outStart + r * outLength;
      const wRow = wBase + r * wRowStride;
      edges4(
        out,
        row0,
        outLength,
        inp,
        inStart,
        inCount,
        inLength,
        w,
        wRow,
        wRowStride,
        wInStride,
        taps,
        offset,
        step,
        tA,
        tB,
      );
    }
    for (; r < outCount; r++) {
      const row = outStart + r * outLength;
      const wRow = wBase + r * wRowStride;
      edges1(
        out,
        row,
        outLength,
        inp,
        inStart,
        inCount,
        inLength,
        w,
        wRow,
        wInStride,
        taps,
        offset,
        step,
        tA,
        tB,
      );
    }
  }
}

/** out[start + r * outLength + t] = bias[biasFirst + r] (0 when bias is null) for r < count, t0 <= t < t1. */
function fillRows(
  out: Floats,
  start: number,
  outLength: number,
  count: number,
  bias: Floats | null,
  biasFirst: number,
  t0: number,
  t1: number,
): void {
  if (t0 >= t1) return;
  for (let r = 0; r < count; r++) {
    const row = start + r * outLength;
    out.fill(bias === null ? 0 : bias[biasFirst + r]!, row + t0, row + t1);
  }
}

/**
 * Interior of four output rows (row0 + q * outLength, filters at wRow + q * wRowStride) over [t0, t1), where
 * every pair lands inside the input. Pairs n = (channel c, tap k) stream past four at a time: 16 filter
 * values in locals, then per sample 4 input loads and 4 output read-modify-writes for 16 multiply-adds.
 * `inBase` already includes the correlation offset.
 */
function interior4(
  out: Floats,
  row0: number,
  outLength: number,
  inp: Floats,
  inBase: number,
  pairs: number,
  inLength: number,
  w: Floats,
  wRow: number,
  wRowStride: number,
  wInStride: number,
  taps: number,
  step: number,
  t0: number,
  t1: number,
): void {
  const row1 = row0 + outLength;
  const row2 = row1 + outLength;
  const row3 = row2 + outLength;
  const ws1 = wRowStride;
  const ws2 = 2 * wRowStride;
  const ws3 = 3 * wRowStride;
  let c = 0;
  let k = 0;
  let n = 0;
  for (; n + 4 <= pairs; n += 4) {
    const p0 = inBase + c * inLength + k * step;
    const j0 = wRow + c * wInStride + k;
    if (++k === taps) {
      k = 0;
      c++;
    }
    const p1 = inBase + c * inLength + k * step;
    const j1 = wRow + c * wInStride + k;
    if (++k === taps) {
      k = 0;
      c++;
    }
    const p2 = inBase + c * inLength + k * step;
    const j2 = wRow + c * wInStride + k;
    if (++k === taps) {
      k = 0;
      c++;
    }
    const p3 = inBase + c * inLength + k * step;
    const j3 = wRow + c * wInStride + k;
    if (++k === taps) {
      k = 0;
      c++;
    }
    const w00 = w[j0]!;
    const w01 = w[j1]!;
    const w02 = w[j2]!;
    const w03 = w[j3]!;
    const w10 = w[j0 + ws1]!;
    const w11 = w[j1 + ws1]!;
    const w12 = w[j2 + ws1]!;
    const w13 = w[j3 + ws1]!;
    const w20 = w[j0 + ws2]!;
    const w21 = w[j1 + ws2]!;
    const w22 = w[j2 + ws2]!;
    const w23 = w[j3 + ws2]!;
    const w30 = w[j0 + ws3]!;
    const w31 = w[j1 + ws3]!;
    const w32 = w[j2 + ws3]!;
    const w33 = w[j3 + ws3]!;
    for (let t = t0; t < t1; t++) {
      const x0 = inp[p0 + t]!;
      const x1 = inp[p1 + t]!;
      const x2 = inp[p2 + t]!;
      const x3 = inp[p3 + t]!;
      out[row0 + t]! += w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3;
      out[row1 + t]! += w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3;
      out[row2 + t]! += w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3;
      out[row3 + t]! += w30 * x0 + w31 * x1 + w32 * x2 + w33 * x3;
    }
  }
  for (; n < pairs; n++) {
    const p = inBase + c * inLength + k * step;
    const j = wRow + c * wInStride + k;
    if (++k === taps) {
      k = 0;
      c++;
    }
    const v0 = w[j]!;
    const v1 = w[j + ws1]!;
    const v2 = w[j + ws2]!;
    const v3 = w[j + ws3]!;
    for (let t = t0; t < t1; t++) {
      const xv = inp[p + t]!;
      out[row0 + t]! += v0 * xv;
      out[row1 + t]! += v1 * xv;
      out[row2 + t]! += v2 * xv;
      out[row3 + t]! += v3 * xv;
    }
  }
}

/** Interior of one output row: four pairs per pass over [t0, t1). */
function interior1(
  out: Floats,
  row: number,
  inp: Floats,
  inBase: number,
  pairs: number,
  inLength: number,
  w: Floats,
  wRow: number,
  wInStride: number,
  taps: number,
  step: number,
  t0: number,
  t1: number,
): void {
  let c = 0;
  let k = 0;
  let n = 0;
  for (; n + 4 <= pairs; n += 4) {
    const p0 = inBase + c * inLength + k * step;
    const v0 = w[wRow + c * wInStride + k]!;
    if (++k === taps) {
      k = 0;
      c++;
    }
    const p1 = inBase + c * inLength + k * step;
    const v1 = w[wRow + c * wInStride + k]!;
    if (++k === taps) {
      k = 0;
      c++;
    }
    const p2 = inBase + c * inLength + k * step;
    const v2 = w[wRow + c * wInStride + k]!;
    if (++k === taps) {
      k = 0;
      c++;
    }
    const p3 = inBase + c * inLength + k * step;
    const v3 = w[wRow + c * wInStride + k]!;
    if (++k === taps) {
      k = 0;
      c++;
    }
    for (let t = t0; t < t1; t++) {
      out[row + t]! += v0 * inp[p0 + t]! + v1 * inp[p1 + t]! + v2 * inp[p2 + t]! + v3 * inp[p3 + t]!;
    }
  }
  for (; n < pairs; n++) {
    const p = inBase + c * inLength + k * step;
    const v = w[wRow + c * wInStride + k]!;
    if (++k === taps) {
      k = 0;
      c++;
    }
    for (let t = t0; t < t1; t++) out[row + t]! += v * inp[p + t]!;
  }
}

/**
 * Edges of four consecutive output rows (row0, row0 + outLength, ...) of `correlate`: [0, tA) and
 * [tB, outLength), with bounds: each pair's valid time range is computed once, then one input load feeds the
 * four rows. `inStart` is where input channel 0 of this batch item starts.
 */
function edges4(
  out: Floats,
  row0: number,
  outLength: number,
  inp: Floats,
  inStart: number,
  inCount: number,
  inLength: number,
  w: Floats,
  wRow: number,
  wRowStride: number,
  wInStride: number,
  taps: number,
  offset: number,
  step: number,
  tA: number,
  tB: number,
): void {
  const row1 = row0 + outLength;
  const row2 = row1 + outLength;
  const row3 = row2 + outLength;
  for (let side = 0; side < 2; side++) {
    const t0 = side === 0 ? 0 : tB;
    const t1 = side === 0 ? tA : outLength;
    if (t0 >= t1) continue;
    for (let c = 0; c < inCount; c++) {
      for (let k = 0; k < taps; k++) {
        const shift = offset + k * step;
        const lo = Math.max(t0, -shift);
        const hi = Math.min(t1, inLength - shift);
        if (lo >= hi) continue;
        const src = inStart + c * inLength + shift;
        const j = wRow + c * wInStride + k;
        const v0 = w[j]!;
        const v1 = w[j + wRowStride]!;
        const v2 = w[j + 2 * wRowStride]!;
        const v3 = w[j + 3 * wRowStride]!;
        for (let t = lo; t < hi; t++) {
          const xv = inp[src + t]!;
          out[row0 + t]! += v0 * xv;
          out[row1 + t]! += v1 * xv;
          out[row2 + t]! += v2 * xv;
          out[row3 + t]! += v3 * xv;
        }
      }
    }
  }
}

/** Edges [0, tA) and [tB, outLength) of one output row of `correlate`, each pair's valid range computed once. */
function edges1(
  out: Floats,
  row: number,
  outLength: number,
  inp: Floats,
  inStart: number,
  inCount: number,
  inLength: number,
  w: Floats,
  wRow: number,
  wInStride: number,
  taps: number,
  offset: number,
  step: number,
  tA: number,
  tB: number,
): void {
  for (let side = 0; side < 2; side++) {
    const t0 = side === 0 ? 0 : tB;
    const t1 = side === 0 ? tA : outLength;
    if (t0 >= t1) continue;
    for (let c = 0; c < inCount; c++) {
      for (let k = 0; k < taps; k++) {
        const shift = offset + k * step;
        const lo = Math.max(t0, -shift);
        const hi = Math.min(t1, inLength - shift);
        if (lo >= hi) continue;
        const src = inStart + c * inLength + shift;
        const v = w[wRow + c * wInStride + k]!;
        for (let t = lo; t < hi; t++) out[row + t]! += v * inp[src + t]!;
      }
    }
  }
}

/**
 * dw[o, j, k] += sum_{b, t} dy[b, o, t] x[b, g * inPerGroup + j, t - padLeft + k * dilation] (o in group g, taps
 * outside the input skipped); dbias[o] += sum_{b, t} dy[b, o, t] (dbias may be null). Dot products over
 * contiguous time: per tap, the valid time range is computed once and cut into tiles (so the tile's dy and x
 * rows stay in cache while every channel pair passes), and each tile runs as 4 output x 4 input channel
 * blocks: 8 loads feed 16 independent accumulators.
 */
export function conv1dBackwardWeights(
  dw: Floats,
  dbias: Floats | null,
  dy: Floats,
  x: Floats,
  shape: ConvShape,
): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  if (outLength <= 0) return;
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const wo = inPerGroup * kernelSize; // filter stride between output channels
  for (let b = 0; b < batch; b++) {
    if (dbias !== null) {
      for (let o = 0; o < outChannels; o++) {
        const row = (b * outChannels + o) * outLength;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let t = 0;
        for (; t + 4 <= outLength; t += 4) {
          s0 += dy[row + t]!;
          s1 += dy[row + t + 1]!;
          s2 += dy[row + t + 2]!;
          s3 += dy[row + t + 3]!;
        }
        for (; t < outLength; t++) s0 += dy[row + t]!;
        dbias[o]! += s0 + s1 + s2 + s3;
      }
    }
    for (let g = 0; g < groups; g++) {
      const inBase = (b * inChannels + g * inPerGroup) * inLength;
      const oFirst = g * outPerGroup;
      const oEnd = oFirst + outPerGroup;
      for (let k = 0; k < kernelSize; k++) {
        const shift = k * dilation - padLeft; // y[t] reads x[t + shift]
        const lo = Math.max(0, -shift);
        const hi = Math.min(outLength, inLength - shift);
        for (let t0 = lo; t0 < hi; t0 += TILE) {
          const t1 = Math.min(hi, t0 + TILE);
          let o = oFirst;
          for (; o + 4 <= oEnd; o += 4) {
            const row = (b * outChannels + o) * outLength;
            let j = 0;
            for (; j + 4 <= inPerGroup; j += 4) {
              dots4x4(
                dw,
                o * wo + j * kernelSize + k,
                wo,
                kernelSize,
                dy,
                row,
                outLength,
                x,
                inBase + j * inLength + shift,
                inLength,
                t0,
                t1,
              );
            }
            for (; j < inPerGroup; j++) {
              dots4x1(
                dw,
                o * wo + j * kernelSize + k,
                wo,
                dy,
                row,
                outLength,
                x,
                inBase + j * inLength + shift,
                t0,
                t1,
              );
            }
          }
          for (; o < oEnd; o++) {
            const row = (b * outChannels + o) * outLength;
            for (let j = 0; j < inPerGroup; j++) {
              dots1x1(dw, o * wo + j * kernelSize + k, dy, row, x, inBase + j * inLength + shift, t0, t1);
            }
          }
        }
      }
    }
  }
}

/**
 * dw[wi + q * wo + m * K] += sum_{t0 <= t < t1} dy[row + q * outLength + t] x[src + m * inLength + t] for
 * q, m < 4: four output channels (rows of dy) by four input channels (rows of x), 16 accumulators.
 */
function dots4x4(
  dw: Floats,
  wi: number,
  wo: number,
  K: number,
  dy: Floats,
  row: number,
  outLength: number,
  x: Floats,
  src: number,
  inLength: number,
  t0: number,
  t1: number,
): void {
  const row0 = row;
  const row1 = row0 + outLength;
  const row2 = row1 + outLength;
  const row3 = row2 + outLength;
  const src0 = src;
  const src1 = src0 + inLength;
  const src2 = src1 + inLength;
  const src3 = src2 + inLength;
  let a00 = 0;
  let a01 = 0;
  let a02 = 0;
  let a03 = 0;
  let a10 = 0;
  let a11 = 0;
  let a12 = 0;
  let a13 = 0;
  let a20 = 0;
  let a21 = 0;
  let a22 = 0;
  let a23 = 0;
  let a30 = 0;
  let a31 = 0;
  let a32 = 0;
  let a33 = 0;
  for (let t = t0; t < t1; t++) {
    const x0 = x[src0 + t]!;
    const x1 = x[src1 + t]!;
    const x2 = x[src2 + t]!;
    const x3 = x[src3 + t]!;
    const d0 = dy[row0 + t]!;
    const d1 = dy[row1 + t]!;
    const d2 = dy[row2 + t]!;
    const d3 = dy[row3 + t]!;
    a00 += d0 * x0;
    a01 += d0 * x1;
    a02 += d0 * x2;
    a03 += d0 * x3;
    a10 += d1 * x0;
    a11 += d1 * x1;
    a12 += d1 * x2;
    a13 += d1 * x3;
    a20 += d2 * x0;
    a21 += d2 * x1;
    a22 += d2 * x2;
    a23 += d2 * x3;
    a30 += d3 * x0;
    a31 += d3 * x1;
    a32 += d3 * x2;
    a33 += d3 * x3;
  }
  const w0 = wi;
  const w1 = w0 + wo;
  const w2 = w1 + wo;
  const w3 = w2 + wo;
  dw[w0]! += a00;
  dw[w0 + K]! += a01;
  dw[w0 + 2 * K]! += a02;
  dw[w0 + 3 * K]! += a03;
  dw[w1]! += a10;
  dw[w1 + K]! += a11;
  dw[w1 + 2 * K]! += a12;
  dw[w1 + 3 * K]! += a13;
  dw[w2]! += a20;
  dw[w2 + K]! += a21;
  dw[w2 + 2 * K]! += a22;
  dw[w2 + 3 * K]! += a23;
  dw[w3]! += a30;
  dw[w3 + K]! += a31;
  dw[w3 + 2 * K]! += a32;
  dw[w3 + 3 * K]! += a33;
}

/** Four output channels by one input channel: one x load feeds four accumulators. */
function dots4x1(
  dw: Floats,
  wi: number,
  wo: number,
  dy: Floats,
  row: number,
  outLength: number,
  x: Floats,
  src: number,
  t0: number,
  t1: number,
): void {
  const row1 = row + outLength;
  const row2 = row1 + outLength;
  const row3 = row2 + outLength;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let t = t0; t < t1; t++) {
    const v = x[src + t]!;
    s0 += dy[row + t]! * v;
    s1 += dy[row1 + t]! * v;
    s2 += dy[row2 + t]! * v;
    s3 += dy[row3 + t]! * v;
  }
  dw[wi]! += s0;
  dw[wi + wo]! += s1;
  dw[wi + 2 * wo]! += s2;
  dw[wi + 3 * wo]! += s3;
}

/** One output channel by one input channel, four accumulators over time. */
function dots1x1(
  dw: Floats,
  wi: number,
  dy: Floats,
  row: number,
  x: Floats,
  src: number,
  t0: number,
  t1: number,
): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = t0;
  for (; t + 4 <= t1; t += 4) {
    s0 += dy[row + t]! * x[src + t]!;
    s1 += dy[row + t + 1]! * x[src + t + 1]!;
    s2 += dy[row + t + 2]! * x[src + t + 2]!;
    s3 += dy[row + t + 3]! * x[src + t + 3]!;
  }
  for (; t < t1; t++) s0 += dy[row + t]! * x[src + t]!;
  dw[wi]! += s0 + s1 + s2 + s3;
}
