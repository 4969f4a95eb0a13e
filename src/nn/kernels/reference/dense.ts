import type { DenseShape, Floats } from "../types.ts";

/** Reference twin of js/dense.ts: the textbook triple loops. */
export function denseForward(y: Floats, x: Floats, w: Floats, b: Floats | null, shape: DenseShape): void {
  const { rows, inputs, outputs } = shape;
  for (let n = 0; n < rows; n++) {
    for (let o = 0; o < outputs; o++) {
      let sum = b === null ? 0 : b[o]!;
      for (let i = 0; i < inputs; i++) sum += x[n * inputs + i]! * w[o * inputs + i]!;
      y[n * outputs + o] = sum;
    }
  }
}

export function denseBackward(
  dx: Floats | null,
  dw: Floats,
  db: Floats | null,
  dy: Floats,
  x: Floats,
  w: Floats,
  shape: DenseShape,
): void {
  const { rows, inputs, outputs } = shape;
  for (let n = 0; n < rows; n++) {
    for (let o = 0; o < outputs; o++) {
      const g = dy[n * outputs + o]!;
      if (db !== null) db[o]! += g;
      for (let i = 0; i < inputs; i++) {
        dw[o * inputs + i]! += g * x[n * inputs + i]!;
        if (dx !== null) dx[n * inputs + i]! += g * w[o * inputs + i]!;
      }
    }
  }
}
