import type { ConvShape, Floats, Kernels } from "../types.ts";

/** The part of a backend the transposed conv runs on (any full `Kernels` is one). */
export type ConvKernels = Pick<Kernels, "conv1dForward" | "conv1dBackwardData" | "conv1dBackwardWeights">;

/**
 * A transposed 1-D convolution (PyTorch nn.ConvTranspose1d with stride 1 and padding 0):
 * x [batch, inChannels, inLength], w [inChannels, outChannels / groups, kernelSize] (PyTorch's layout),
 * bias [outChannels] | null, y [batch, outChannels, outLength] with
 *   y_full[b, g * outPerGroup + q, t + k * dilation] += w[i, q, k] x[b, i, t]   (i in group g)
 *   y[b, o, u] = bias[o] + y_full[b, o, u + cropLeft],   outLength = inLength + (kernelSize - 1) * dilation - cropLeft.
 *
 * It is the adjoint (transpose) of the conv1d that maps outChannels -> inChannels with the SAME weight tensor:
 * w [inChannels, outChannels / groups, K] is that conv's [convOut, convIn / groups, K] filter bank, so a tied
 * transposed conv reuses a conv1d layer's filters as they are. The three kernels are therefore the conv1d
 * kernels with roles swapped (forward = conv backward-data, backward-data = conv forward, weight gradient =
 * conv backward-weights with x and dy exchanged), taken from whichever `Kernels` backend is passed in.
 *
 * `cropLeft` (default 0) drops the first cropLeft samples of the full output, so the output is the window
 * [cropLeft, full length) of it; this falls out of the adjoint conv's left padding (padLeft = cropLeft).
 * cropLeft = (kernelSize - 1) * dilation gives an output as long as the input: the adjoint of a causally
 * padded conv. cropLeft must leave outLength >= 0. Keeping the FIRST samples instead (dropping the end)
 * would need right padding in ConvShape, which it does not have, so it is not offered.
 */
export interface ConvTransposeShape {
  batch: number;
  inChannels: number;
  outChannels: number;
  /** Input samples per channel. */
  inLength: number;
  kernelSize: number;
  /** Spacing between kernel taps, >= 1. */
  dilation: number;
  /** inChannels and outChannels are both divisible by groups. */
  groups: number;
  /** Output samples dropped from the start of the full output; default 0. */
  cropLeft?: number;
}

/** outLength = inLength + (kernelSize - 1) * dilation - cropLeft. */
export function convTransposeOutLength(shape: ConvTransposeShape): number {
  return shape.inLength + (shape.kernelSize - 1) * shape.dilation - (shape.cropLeft ?? 0);
}

/**
 * The conv1d whose adjoint this is: it maps the transposed conv's output [outChannels, outLength] back to
 * its input [inChannels, inLength] with the same weight tensor.
 */
export function adjointConvShape(shape: ConvTransposeShape): ConvShape {
  return {
    batch: shape.batch,
    inChannels: shape.outChannels,
    outChannels: shape.inChannels,
    inLength: convTransposeOutLength(shape),
    kernelSize: shape.kernelSize,
    dilation: shape.dilation,
    groups: shape.groups,
    padLeft: shape.cropLeft ?? 0,
  };
}

/** y = convT(x, w) + bias (bias may be null); y [batch, outChannels, outLength] is overwritten. */
export function convTranspose1dForward(
  y: Floats,
  x: Floats,
  w: Floats,
  bias: Floats | null,
  shape: ConvTransposeShape,
  kernels: ConvKernels,
): void {
  const { batch, outChannels } = shape;
  const outLength = convTransposeOutLength(shape);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      const row = (b * outChannels + o) * outLength;
      y.fill(bias === null ? 0 : bias[o]!, row, row + outLength);
    }
  }
  kernels.conv1dBackwardData(y, x, w, adjointConvShape(shape));
}

/**
 * dx [batch, inChannels, inLength] += the gradient with respect to the input, which is the adjoint conv
 * (bias-free conv1d forward) of dy. The conv forward overwrites its output while this kernel must add, so it
 * runs into a module-level scratch buffer that grows to the largest size seen and is then reused (no
 * allocation in steady state), and the scratch is added into dx.
 */
export function convTranspose1dBackwardData(
  dx: Floats,
  dy: Floats,
  w: Floats,
  shape: ConvTransposeShape,
  kernels: ConvKernels,
): void {
  const count = shape.batch * shape.inChannels * shape.inLength;
  if (count === 0) return;
  const tmp = scratchLike(dx, count);
  kernels.conv1dForward(tmp, dy, w, null, adjointConvShape(shape));
  for (let i = 0; i < count; i++) dx[i]! += tmp[i]!;
}

let scratch32 = new Float32Array(0);
let scratch64 = new Float64Array(0);

/**
 * `count` scratch elements of the same element type as `like` (contents undefined): the whole buffer when
 * it has exactly that length, else a view of its start.
 */
function scratchLike(like: Floats, count: number): Floats {
  if (like instanceof Float32Array) {
    if (scratch32.length < count) scratch32 = new Float32Array(count);
    return scratch32.length === count ? scratch32 : scratch32.subarray(0, count);
  }
  if (scratch64.length < count) scratch64 = new Float64Array(count);
  return scratch64.length === count ? scratch64 : scratch64.subarray(0, count);
}

/**
 * dw [inChannels, outChannels / groups, K] += sum_{b, t, k} dy[b, o, t + k * d - cropLeft] x[b, i, t];
 * dbias [outChannels] += sum_{b, u} dy[b, o, u] (dbias may be null). dw may be a conv1d layer's weight
 * gradient (tied filters): both layers' contributions then add into one buffer.
 */
export function convTranspose1dBackwardWeights(
  dw: Floats,
  dbias: Floats | null,
  dy: Floats,
  x: Floats,
  shape: ConvTransposeShape,
  kernels: ConvKernels,
): void {
  // The adjoint conv reads dy as its input and produces x-shaped outputs: its weight gradient is
  // sum dy_conv[b, i, t] x_conv[b, o, t - padLeft + k d] with dy_conv = x and x_conv = dy.
  kernels.conv1dBackwardWeights(dw, null, x, dy, adjointConvShape(shape));
  if (dbias === null) return;
  const { batch, outChannels } = shape;
  const outLength = convTransposeOutLength(shape);
  for (let b = 0; b < batch; b++) {
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
}
