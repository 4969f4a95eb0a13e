import type { Floats } from "../types.ts";

/** Reference twin of js/gated.ts. x [batch, 2C, length] -> y [batch, C, length] = tanh(a) * sigmoid(b). */
export function gatedForward(y: Floats, x: Floats, batch: number, channels: number, length: number): void {
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      for (let t = 0; t < length; t++) {
        const a = x[(n * 2 * channels + c) * length + t]!;
        const b = x[(n * 2 * channels + channels + c) * length + t]!;
        y[(n * channels + c) * length + t] = Math.tanh(a) * (1 / (1 + Math.exp(-b)));
      }
    }
  }
}

/** da += dy sigmoid(b) (1 - tanh(a)^2); db += dy tanh(a) sigmoid(b) (1 - sigmoid(b)). */
export function gatedBackward(
  dx: Floats,
  dy: Floats,
  x: Floats,
  batch: number,
  channels: number,
  length: number,
): void {
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      for (let t = 0; t < length; t++) {
        const ia = (n * 2 * channels + c) * length + t;
        const ib = (n * 2 * channels + channels + c) * length + t;
        const tanhA = Math.tanh(x[ia]!);
        const sigB = 1 / (1 + Math.exp(-x[ib]!));
        const g = dy[(n * channels + c) * length + t]!;
        dx[ia]! += g * sigB * (1 - tanhA * tanhA);
        dx[ib]! += g * tanhA * sigB * (1 - sigB);
      }
    }
  }
}
