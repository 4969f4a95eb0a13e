import type { Floats } from "../types.ts";

/*
 * The WaveNet gate y = tanh(a) * sigmoid(b), a = channels [0, C) and b = channels [C, 2C) of
 * x [batch, 2C, length], y [batch, C, length] (reference twin: ../reference/gated.ts).
 *
 * Math.tanh and Math.exp are calls into C++ (~10-15 ns each, ~32 ns per gated sample), as slow as the conv
 * feeding the gate. Both functions here come from one inlined expm1 instead: table range reduction
 * z = (32 m + j) ln2 / 32 + r, |r| <= ln2 / 64, expm1(z) = 2^m 2^(j/32) (1 + p(r)) - 1 with p a degree-6
 * Taylor polynomial (truncation < 4e-18 relative). tanh(a) = e / (e + 2) with e = expm1(2a), and
 * sigmoid(b) = 1 / (2 + expm1(-b)). expm1's argument is clamped to [-80, 80] (tanh is then exactly +-1 and
 * sigmoid within 2e-35 of 0 or 1, below float32's smallest normal). Measured against Math.tanh / Math.exp:
 * < 1e-14 relative, < 1e-15 absolute error (double precision, not an approximation); ~11 ns per gated
 * sample forward and ~15 ns backward, against ~32 / ~36 ns with Math.tanh and Math.exp.
 */

const SCALE = Float64Array.from({ length: 256 }, (_, i) => 2 ** (i - 128)); // 2^m, m in [-128, 128)
const FRACTION = Float64Array.from({ length: 32 }, (_, j) => 2 ** (j / 32)); // 2^(j/32)
const INV_STEP = 32 / Math.LN2;
const STEP_HI = Math.fround(Math.LN2 / 32); // 24 significant bits: k * STEP_HI is exact for |k| < 2^29
const STEP_LO = Math.LN2 / 32 - STEP_HI;
const ROUND = 6755399441055744; // 1.5 * 2^52: (v + ROUND) - ROUND rounds v to the nearest integer

/** expm1(z) = e^z - 1 for z clamped to [-80, 80]; NaN stays NaN. */
function expm1(z: number): number {
  // Branches rather than Math.min / Math.max: measured ~10% faster here.
  let v = z;
  if (v > 80) v = 80;
  else if (v < -80) v = -80;
  const kf = v * INV_STEP + ROUND - ROUND;
  const r = v - kf * STEP_HI - kf * STEP_LO;
  const k = kf | 0;
  const p = r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720))))));
  const s = SCALE[(k >> 5) + 128]! * FRACTION[k & 31]!;
  return s * p + (s - 1);
}

/** y[n, c, t] = tanh(x[n, c, t]) * sigmoid(x[n, C + c, t]); y is overwritten. */
export function gatedForward(y: Floats, x: Floats, batch: number, channels: number, length: number): void {
  const half = channels * length;
  for (let n = 0; n < batch; n++) {
    const xa = 2 * n * half;
    const xb = xa + half;
    const yo = n * half;
    for (let i = 0; i < half; i++) {
      const ea = expm1(2 * x[xa + i]!);
      const eb = expm1(-x[xb + i]!);
      // tanh(a) sigmoid(b) = ea / (ea + 2) * 1 / (eb + 2), one division.
      y[yo + i] = ea / ((ea + 2) * (eb + 2));
    }
  }
}

/**
 * dx[n, c, t] += dy tanh'(a) sigmoid(b) = dy (1 - tanh(a)^2) sigmoid(b);
 * dx[n, C + c, t] += dy tanh(a) sigmoid'(b) = dy tanh(a) sigmoid(b) (1 - sigmoid(b)).
 */
export function gatedBackward(
  dx: Floats,
  dy: Floats,
  x: Floats,
  batch: number,
  channels: number,
  length: number,
): void {
  const half = channels * length;
  for (let n = 0; n < batch; n++) {
    const xa = 2 * n * half;
    const xb = xa + half;
    const yo = n * half;
    for (let i = 0; i < half; i++) {
      const ea = expm1(2 * x[xa + i]!);
      const eb = expm1(-x[xb + i]!);
      const th = ea / (ea + 2);
      const sg = 1 / (eb + 2);
      const gs = dy[yo + i]! * sg;
      dx[xa + i]! += gs * (1 - th * th);
      dx[xb + i]! += gs * th * (1 - sg);
    }
  }
}
