import type { ConvTransposeShape } from "../js/conv-transpose.ts";
import { convTransposeOutLength } from "../js/conv-transpose.ts";
import type { Floats } from "../types.ts";

/**
 * Reference twin of js/conv-transpose.ts, written from the transposed conv's own formula (not via conv1d):
 *   y[b, o, t + k * dilation - cropLeft] += w[i, q, k] x[b, i, t],  o = g * outPerGroup + q, i in group g,
 * plus bias[o], keeping output indices in [0, outLength). w [inChannels, outChannels / groups, kernelSize].
 */
export function convTranspose1dForward(
  y: Floats,
  x: Floats,
  w: Floats,
  bias: Floats | null,
  shape: ConvTransposeShape,
): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups } = shape;
  const crop = shape.cropLeft ?? 0;
  const outLength = convTransposeOutLength(shape);
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outChannels; o++) {
      for (let u = 0; u < outLength; u++)
        y[(b * outChannels + o) * outLength + u] = bias === null ? 0 : bias[o]!;
    }
    for (let i = 0; i < inChannels; i++) {
      const g = Math.floor(i / inPerGroup);
      for (let q = 0; q < outPerGroup; q++) {
        const o = g * outPerGroup + q;
        for (let k = 0; k < kernelSize; k++) {
          for (let t = 0; t < inLength; t++) {
            const u = t + k * dilation - crop;
            if (u < 0 || u >= outLength) continue;
            y[(b * outChannels + o) * outLength + u]! +=
              w[(i * outPerGroup + q) * kernelSize + k]! * x[(b * inChannels + i) * inLength + t]!;
          }
        }
      }
    }
  }
}

/** dx[b, i, t] += sum_{q, k} w[i, q, k] dy[b, o, t + k * dilation - cropLeft]. */
export function convTranspose1dBackwardData(
  dx: Floats,
  dy: Floats,
  w: Floats,
  shape: ConvTransposeShape,
): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups } = shape;
  const crop = shape.cropLeft ?? 0;
  const outLength = convTransposeOutLength(shape);
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < inChannels; i++) {
      const g = Math.floor(i / inPerGroup);
      for (let q = 0; q < outPerGroup; q++) {
        const o = g * outPerGroup + q;
        for (let k = 0; k < kernelSize; k++) {
          for (let t = 0; t < inLength; t++) {
            const u = t + k * dilation - crop;
            if (u < 0 || u >= outLength) continue;
            dx[(b * inChannels + i) * inLength + t]! +=
              w[(i * outPerGroup + q) * kernelSize + k]! * dy[(b * outChannels + o) * outLength + u]!;
          }
        }
      }
    }
  }
}

/** dw[i, q, k] += sum_{b, t} dy[b, o, t + k * dilation - cropLeft] x[b, i, t]; dbias[o] += sum_{b, u} dy[b, o, u]. */
export function convTranspose1dBackwardWeights(
  dw: Floats,
  dbias: Floats | null,
  dy: Floats,
  x: Floats,
  shape: ConvTransposeShape,
): void {
  const { batch, inChannels, outChannels, inLength, kernelSize, dilation, groups } = shape;
  const crop = shape.cropLeft ?? 0;
  const outLength = convTransposeOutLength(shape);
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  for (let b = 0; b < batch; b++) {
    if (dbias !== null) {
      for (let o = 0; o < outChannels; o++) {
        for (let u = 0; u < outLength; u++) dbias[o]! += dy[(b * outChannels + o) * outLength + u]!;
      }
    }
    for (let i = 0; i < inChannels; i++) {
      const g = Math.floor(i / inPerGroup);
      for (let q = 0; q < outPerGroup; q++) {
        const o = g * outPerGroup + q;
        for (let k = 0; k < kernelSize; k++) {
          for (let t = 0; t < inLength; t++) {
            const u = t + k * dilation - crop;
            if (u < 0 || u >= outLength) continue;
            dw[(i * outPerGroup + q) * kernelSize + k]! +=
              dy[(b * outChannels + o) * outLength + u]! * x[(b * inChannels + i) * inLength + t]!;
          }
        }
      }
    }
  }
}
