import type { ConvShape, Floats } from "../types.ts";
import { convOutLength } from "../types.ts";

/**
 * Reference twin of js/conv.ts: the conv1d formula written out over every index, no blocking.
 *   y[b, o, t] = bias[o] + sum_{i in group(o), k} w[o, i - i0, k] x[b, i, t - padLeft + k * dilation]
 * where taps that land outside [0, inLength) read zero. x [batch, inChannels, inLength],
 * w [outChannels, inChannels / groups, kernelSize], y [batch, outChannels, outLength] (overwritten).
 */
export function conv1dForward(y: Floats, x: Floats, w: Floats, bias: Floats | null, shape: ConvShape): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      const g = Math.floor(o / outPerGroup);
      for (let t = 0; t < outLength; t++) {
        let sum = bias === null ? 0 : bias[o]!;
        for (let j = 0; j < inPerGroup; j++) {
          const i = g * inPerGroup + j;
          for (let k = 0; k < kernelSize; k++) {
            const s = t - padLeft + k * dilation;
            if (s < 0 || s >= inLength) continue;
            sum += w[(o * inPerGroup + j) * kernelSize + k]! * x[(b * inChannels + i) * inLength + s]!;
          }
        }
        y[(b * outChannels + o) * outLength + t] = sum;
      }
    }
  }
}

/** dx[b, i, s] += sum over (o, k, t) with s = t - padLeft + k * dilation of w[o, i - i0, k] dy[b, o, t]. */
export function conv1dBackwardData(dx: Floats, dy: Floats, w: Floats, shape: ConvShape): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      const g = Math.floor(o / outPerGroup);
      for (let t = 0; t < outLength; t++) {
        const grad = dy[(b * outChannels + o) * outLength + t]!;
        for (let j = 0; j < inPerGroup; j++) {
          const i = g * inPerGroup + j;
          for (let k = 0; k < kernelSize; k++) {
            const s = t - padLeft + k * dilation;
            if (s < 0 || s >= inLength) continue;
            dx[(b * inChannels + i) * inLength + s]! += w[(o * inPerGroup + j) * kernelSize + k]! * grad;
          }
        }
      }
    }
  }
}

/** dw[o, j, k] += sum_{b, t} dy[b, o, t] x[b, i0 + j, t - padLeft + k * dilation]; dbias[o] += sum_{b, t} dy[b, o, t]. */
export function conv1dBackwardWeights(
  dw: Floats,
  dbias: Floats | null,
  dy: Floats,
  x: Floats,
  shape: ConvShape,
): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups, padLeft } = shape;
  const outLength = convOutLength(shape);
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      const g = Math.floor(o / outPerGroup);
      for (let t = 0; t < outLength; t++) {
        const grad = dy[(b * outChannels + o) * outLength + t]!;
        if (dbias !== null) dbias[o]! += grad;
        for (let j = 0; j < inPerGroup; j++) {
          const i = g * inPerGroup + j;
          for (let k = 0; k < kernelSize; k++) {
            const s = t - padLeft + k * dilation;
            if (s < 0 || s >= inLength) continue;
            dw[(o * inPerGroup + j) * kernelSize + k]! += grad * x[(b * inChannels + i) * inLength + s]!;
          }
        }
      }
    }
  }
}
