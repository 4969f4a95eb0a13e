import type { DenseShape, Floats } from "../types.ts";

/**
 * y[n, o] = b[o] + sum_i x[n, i] w[o, i].  x [rows, inputs], w [outputs, inputs], b [outputs] | null,
 * y [rows, outputs] (overwritten). Four output rows at a time, so each x[n, i] load feeds four
 * independent accumulators.
 */
export function denseForward(y: Floats, x: Floats, w: Floats, b: Floats | null, shape: DenseShape): void {
  const { rows, inputs, outputs } = shape;
  const blocked = outputs - (outputs % 4);
  for (let n = 0; n < rows; n++) {
    const xRow = n * inputs;
    const yRow = n * outputs;
    let o = 0;
    for (; o < blocked; o += 4) {
      const w0 = o * inputs;
      const w1 = w0 + inputs;
      const w2 = w1 + inputs;
      const w3 = w2 + inputs;
      let a0 = b === null ? 0 : b[o]!;
      let a1 = b === null ? 0 : b[o + 1]!;
      let a2 = b === null ? 0 : b[o + 2]!;
      let a3 = b === null ? 0 : b[o + 3]!;
      for (let i = 0; i < inputs; i++) {
        const xi = x[xRow + i]!;
        a0 += xi * w[w0 + i]!;
        a1 += xi * w[w1 + i]!;
        a2 += xi * w[w2 + i]!;
        a3 += xi * w[w3 + i]!;
      }
      y[yRow + o] = a0;
      y[yRow + o + 1] = a1;
      y[yRow + o + 2] = a2;
      y[yRow + o + 3] = a3;
    }
    for (; o < outputs; o++) {
      const wRow = o * inputs;
      let acc = b === null ? 0 : b[o]!;
      for (let i = 0; i < inputs; i++) acc += x[xRow + i]! * w[wRow + i]!;
      y[yRow + o] = acc;
    }
  }
}

/**
 * dx[n, i] += sum_o dy[n, o] w[o, i] (dx may be null); dw[o, i] += sum_n dy[n, o] x[n, i];
 * db[o] += sum_n dy[n, o] (db may be null). Both products run over contiguous rows, four terms per
 * load/store of the destination (four outputs for dx, four rows for dw).
 */
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
  if (db !== null) {
    for (let n = 0; n < rows; n++) for (let o = 0; o < outputs; o++) db[o]! += dy[n * outputs + o]!;
  }
  if (dx !== null) {
    const blocked = outputs - (outputs % 4);
    for (let n = 0; n < rows; n++) {
      const xRow = n * inputs;
      const yRow = n * outputs;
      let o = 0;
      for (; o < blocked; o += 4) {
        const g0 = dy[yRow + o]!;
        const g1 = dy[yRow + o + 1]!;
        const g2 = dy[yRow + o + 2]!;
        const g3 = dy[yRow + o + 3]!;
        const w0 = o * inputs;
        const w1 = w0 + inputs;
        const w2 = w1 + inputs;
        const w3 = w2 + inputs;
        for (let i = 0; i < inputs; i++) {
          dx[xRow + i]! += g0 * w[w0 + i]! + g1 * w[w1 + i]! + g2 * w[w2 + i]! + g3 * w[w3 + i]!;
        }
      }
      for (; o < outputs; o++) {
        const g = dy[yRow + o]!;
        const wRow = o * inputs;
        for (let i = 0; i < inputs; i++) dx[xRow + i]! += g * w[wRow + i]!;
      }
    }
  }
  const blockedRows = rows - (rows % 4);
  for (let o = 0; o < outputs; o++) {
    const wRow = o * inputs;
    let n = 0;
    for (; n < blockedRows; n += 4) {
      const g0 = dy[n * outputs + o]!;
      const g1 = dy[(n + 1) * outputs + o]!;
      const g2 = dy[(n + 2) * outputs + o]!;
      const g3 = dy[(n + 3) * outputs + o]!;
      const x0 = n * inputs;
      const x1 = x0 + inputs;
      const x2 = x1 + inputs;
      const x3 = x2 + inputs;
      for (let i = 0; i < inputs; i++) {
        dw[wRow + i]! += g0 * x[x0 + i]! + g1 * x[x1 + i]! + g2 * x[x2 + i]! + g3 * x[x3 + i]!;
      }
    }
    for (; n < rows; n++) {
      const g = dy[n * outputs + o]!;
      const xRow = n * inputs;
      for (let i = 0; i < inputs; i++) dw[wRow + i]! += g * x[xRow + i]!;
    }
  }
}
