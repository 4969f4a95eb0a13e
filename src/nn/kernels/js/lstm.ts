/**
 * Fast LSTM kernels (PyTorch nn.LSTM semantics; ../reference/lstm.ts has the equations). Time-major:
 * x [steps, batch, inputs], h / c [steps, batch, hidden], gates [steps, batch, 4 * hidden] holding the
 * activations i, f, g, o in four blocks of `hidden`.
 *
 * Forward, per time step, takes the sequences two at a time and computes the four gate pre-activations of one
 * hidden unit for both together: eight independent accumulators sharing every weight load, from a per-call
 * copy of the weights interleaved as [unit][k][gate] (biases bIh + bHh folded), then applies the activations in
 * the same pass.
 *
 * Backward walks time backwards. Per step it writes the pre-activation gradients of every sequence to a scratch
 * block, adds dx, and propagates dh_{t-1} = wHh^T d with a per-call transposed copy of wHh (blocks of two
 * sequences x four units). The weight gradients wait until a chunk of steps is done and are then accumulated as
 * register-blocked products d[rows, 4H]^T h_{t-1}[rows, H] (h is contiguous across the steps of a chunk) into
 * float64 accumulators, which are added to dwIh / dwHh / dbIh / dbHh once at the end.
 *
 * tanh(c_t) is needed again in backward; it is recovered as h_t / o_t (one division instead of a ~15 ns
 * Math.tanh) whenever that quotient lies in (-0.9, 0.9), where its rounding error (a few ulps of h and o)
 * cannot be amplified by 1 - tanh^2; otherwise (saturated cells, o = 0) Math.tanh(c_t) is recomputed.
 *
 * Scratch memory lives in module-level Float64Arrays that grow on demand: nothing is allocated once warm.
 */
import type { Floats, LstmBackwardArgs, LstmForwardArgs, RecurrentShape } from "../types.ts";
import {
  accumulateColumnSums,
  accumulateOuter,
  grow,
  inputGradient,
  propagateDh,
  zerosLike,
} from "./recurrent.ts";

let forwardWeights: Float64Array = new Float64Array(0);

/** Fills h, c [steps, batch, hidden] and gates [steps, batch, 4 * hidden] (i, f, g, o after activation). */
export function lstmForward(args: LstmForwardArgs, shape: RecurrentShape): void {
  const { h, c, gates, x, wIh, wHh, bIh, bHh } = args;
  const { steps, batch, inputs, hidden } = shape;
  if (steps === 0 || batch === 0) return;
  // Interleaved per unit m, gate q (row q * hidden + m): bias [m][q] at 0, wIh [m][p][q] at wiAt, wHh [m][k][q] at whAt.
  const wiAt = 4 * hidden;
  const whAt = wiAt + 4 * hidden * inputs;
  forwardWeights = grow(forwardWeights, whAt + 4 * hidden * hidden);
  const w = forwardWeights;
  for (let m = 0; m < hidden; m++) {
    for (let q = 0; q < 4; q++) {
      const row = q * hidden + m;
      w[4 * m + q] = bIh[row]! + bHh[row]!;
      for (let p = 0; p < inputs; p++) w[wiAt + (m * inputs + p) * 4 + q] = wIh[row * inputs + p]!;
      for (let k = 0; k < hidden; k++) w[whAt + (m * hidden + k) * 4 + q] = wHh[row * hidden + k]!;
    }
  }
  const stateSize = batch * hidden;
  const h0 = args.h0 ?? zerosLike(h, stateSize);
  const c0 = args.c0 ?? zerosLike(c, stateSize);
  lstmForwardStep(h, c, gates, 0, x, w, wiAt, whAt, h0, c0, 0, batch, inputs, hidden);
  for (let t = 1; t < steps; t++) {
    lstmForwardStep(
      h,
      c,
      gates,
      t * batch,
      x,
      w,
      wiAt,
      whAt,
      h,
      c,
      (t - 1) * stateSize,
      batch,
      inputs,
      hidden,
    );
  }
}

/** One time step of every sequence: rows [row0, row0 + batch) of h, c, gates and x, from hPrev / cPrev at prevAt. */
function lstmForwardStep(
  h: Floats,
  c: Floats,
  gates: Floats,
  row0: number,
  x: Floats,
  w: Float64Array,
  wiAt: number,
  whAt: number,
  hPrev: Floats,
  cPrev: Floats,
  prevAt: number,
  batch: number,
  inputs: number,
  hidden: number,
): void {
  const gateWidth = 4 * hidden;
  let b = 0;
  // Two sequences at a time: a* for row b, e* for row b + 1.
  for (; b + 2 <= batch; b += 2) {
    const row = row0 + b;
    const out = row * hidden;
    const xAt = row * inputs;
    const pAt = prevAt + b * hidden;
    const gAt = row * gateWidth;
    for (let m = 0; m < hidden; m++) {
      let a0 = w[4 * m]!;
      let a1 = w[4 * m + 1]!;
      let a2 = w[4 * m + 2]!;
      let a3 = w[4 * m + 3]!;
      let e0 = a0;
      let e1 = a1;
      let e2 = a2;
      let e3 = a3;
      let wp = wiAt + 4 * m * inputs;
      for (let p = 0; p < inputs; p++, wp += 4) {
        const xa = x[xAt + p]!;
        const xe = x[xAt + inputs + p]!;
        const w0 = w[wp]!;
        const w1 = w[wp + 1]!;
        const w2 = w[wp + 2]!;
        const w3 = w[wp + 3]!;
        a0 += w0 * xa;
        a1 += w1 * xa;
        a2 += w2 * xa;
        a3 += w3 * xa;
        e0 += w0 * xe;
        e1 += w1 * xe;
        e2 += w2 * xe;
        e3 += w3 * xe;
      }
      wp = whAt + 4 * m * hidden;
      for (let k = 0; k < hidden; k++, wp += 4) {
        const ha = hPrev[pAt + k]!;
        const he = hPrev[pAt + hidden + k]!;
        const w0 = w[wp]!;
        const w1 = w[wp + 1]!;
        const w2 = w[wp + 2]!;
        const w3 = w[wp + 3]!;
        a0 += w0 * ha;
        a1 += w1 * ha;
        a2 += w2 * ha;
        a3 += w3 * ha;
        e0 += w0 * he;
        e1 += w1 * he;
        e2 += w2 * he;
        e3 += w3 * he;
      }
      const i = 1 / (1 + Math.exp(-a0));
      const f = 1 / (1 + Math.exp(-a1));
      const g = Math.tanh(a2);
      const o = 1 / (1 + Math.exp(-a3));
      const cNew = f * cPrev[pAt + m]! + i * g;
      c[out + m] = cNew;
      h[out + m] = o * Math.tanh(cNew);
      gates[gAt + m] = i;
      gates[gAt + hidden + m] = f;
      gates[gAt + 2 * hidden + m] = g;
      gates[gAt + 3 * hidden + m] = o;
      const i2 = 1 / (1 + Math.exp(-e0));
      const f2 = 1 / (1 + Math.exp(-e1));
      const g2 = Math.tanh(e2);
      const o2 = 1 / (1 + Math.exp(-e3));
      const cNew2 = f2 * cPrev[pAt + hidden + m]! + i2 * g2;
      c[out + hidden + m] = cNew2;
      h[out + hidden + m] = o2 * Math.tanh(cNew2);
      gates[gAt + gateWidth + m] = i2;
      gates[gAt + gateWidth + hidden + m] = f2;
      gates[gAt + gateWidth + 2 * hidden + m] = g2;
      gates[gAt + gateWidth + 3 * hidden + m] = o2;
    }
  }
  for (; b < batch; b++) {
    const row = row0 + b;
    const out = row * hidden;
    const xAt = row * inputs;
    const pAt = prevAt + b * hidden;
    const gAt = row * gateWidth;
    for (let m = 0; m < hidden; m++) {
      let a0 = w[4 * m]!;
      let a1 = w[4 * m + 1]!;
      let a2 = w[4 * m + 2]!;
      let a3 = w[4 * m + 3]!;
      let wp = wiAt + 4 * m * inputs;
      for (let p = 0; p < inputs; p++, wp += 4) {
        const xa = x[xAt + p]!;
        a0 += w[wp]! * xa;
        a1 += w[wp + 1]! * xa;
        a2 += w[wp + 2]! * xa;
        a3 += w[wp + 3]! * xa;
      }
      wp = whAt + 4 * m * hidden;
      for (let k = 0; k < hidden; k++, wp += 4) {
        const ha = hPrev[pAt + k]!;
        a0 += w[wp]! * ha;
        a1 += w[wp + 1]! * ha;
        a2 += w[wp + 2]! * ha;
        a3 += w[wp + 3]! * ha;
      }
      const i = 1 / (1 + Math.exp(-a0));
      const f = 1 / (1 + Math.exp(-a1));
      const g = Math.tanh(a2);
      const o = 1 / (1 + Math.exp(-a3));
      const cNew = f * cPrev[pAt + m]! + i * g;
      c[out + m] = cNew;
      h[out + m] = o * Math.tanh(cNew);
      gates[gAt + m] = i;
      gates[gAt + hidden + m] = f;
      gates[gAt + 2 * hidden + m] = g;
      gates[gAt + 3 * hidden + m] = o;
    }
  }
}

let backwardWeights: Float64Array = new Float64Array(0);
let dPre: Float64Array = new Float64Array(0);
let carry: Float64Array = new Float64Array(0);
let accum: Float64Array = new Float64Array(0);

/** Pre-activation gradients kept per chunk of steps (doubles) before the weight products: 256 KiB. */
const CHUNK_VALUES = 32768;

/**
 * Backpropagation through time. Adds into dx (if not null), dwIh, dwHh, dbIh, dbHh, dh0 and dc0 (if not null).
 * dh [steps, batch, hidden] is read only; dhT / dcT (null = zeros) arrive at the final states.
 */
export function lstmBackward(args: LstmBackwardArgs, shape: RecurrentShape): void {
  const { dx, dwIh, dwHh, dbIh, dbHh, dh0, dc0, dh, dhT, dcT, x, wIh, wHh, h, c, gates, h0 } = args;
  const { steps, batch, inputs, hidden } = shape;
  const gateWidth = 4 * hidden;
  const stateSize = batch * hidden;
  // Transposed weights: wHh^T [hidden, 4H] at 0, wIh^T [inputs, 4H] at wiT.
  const wiT = gateWidth * hidden;
  backwardWeights = grow(backwardWeights, wiT + gateWidth * inputs);
  const wT = backwardWeights;
  for (let j = 0; j < gateWidth; j++) {
    for (let k = 0; k < hidden; k++) wT[k * gateWidth + j] = wHh[j * hidden + k]!;
    for (let p = 0; p < inputs; p++) wT[wiT + p * gateWidth + j] = wIh[j * inputs + p]!;
  }
  // Running gradients at h_t (first stateSize values) and c_t (next stateSize), arriving from step t + 1.
  carry = grow(carry, 2 * stateSize);
  const cr = carry;
  for (let n = 0; n < stateSize; n++) {
    cr[n] = dhT ? dhT[n]! : 0;
    cr[stateSize + n] = dcT ? dcT[n]! : 0;
  }
  // Float64 accumulators: dwHh [4H, H] at 0, dwIh [4H, I] at accWi, bias [4H] at accB.
  const accWi = gateWidth * hidden;
  const accB = accWi + gateWidth * inputs;
  accum = grow(accum, accB + gateWidth);
  const acc = accum;
  acc.fill(0, 0, accB + gateWidth);

  const chunk = Math.max(1, Math.min(steps, Math.floor(CHUNK_VALUES / (batch * gateWidth))));
  dPre = grow(dPre, chunk * batch * gateWidth);
  const d = dPre;
  const c0 = args.c0 ?? zerosLike(c, stateSize);
  for (let tEnd = steps; tEnd > 0; tEnd -= chunk) {
    const tStart = Math.max(0, tEnd - chunk);
    for (let t = tEnd - 1; t >= tStart; t--) {
      const dAt = (t - tStart) * batch * gateWidth;
      const cPrev = t > 0 ? c : c0;
      const cPrevAt = t > 0 ? (t - 1) * stateSize : 0;
      lstmBackwardStep(d, dAt, cr, dh, h, c, gates, cPrev, cPrevAt, t * batch, batch, hidden);
      if (dx) inputGradient(dx, d, dAt, wT, wiT, t * batch, batch, inputs, gateWidth);
      propagateDh(cr, d, dAt, gateWidth, gateWidth, wT, batch, hidden);
    }
    // Weight gradients of the rows of steps [tStart, tEnd): d [rows, 4H] against x and h_{t-1}.
    const rows = (tEnd - tStart) * batch;
    accumulateColumnSums(acc, accB, d, gateWidth, 0, gateWidth, rows);
    accumulateOuter(acc, accWi, d, gateWidth, 0, gateWidth, x, tStart * batch * inputs, inputs, rows);
    if (tStart > 0) {
      accumulateOuter(acc, 0, d, gateWidth, 0, gateWidth, h, (tStart - 1) * stateSize, hidden, rows);
    } else {
      // Step 0 reads h0 (nothing to add when it is zeros); the later steps read h of the step before.
      if (h0) accumulateOuter(acc, 0, d, gateWidth, 0, gateWidth, h0, 0, hidden, batch);
      const dAt = batch * gateWidth;
      accumulateOuter(acc, 0, d, gateWidth, dAt, gateWidth, h, 0, hidden, rows - batch);
    }
  }
  for (let j = 0; j < gateWidth; j++) {
    dbIh[j] = dbIh[j]! + acc[accB + j]!;
    dbHh[j] = dbHh[j]! + acc[accB + j]!;
  }
  for (let n = 0; n < gateWidth * hidden; n++) dwHh[n] = dwHh[n]! + acc[n]!;
  for (let n = 0; n < gateWidth * inputs; n++) dwIh[n] = dwIh[n]! + acc[accWi + n]!;
  if (dh0) for (let n = 0; n < stateSize; n++) dh0[n] = dh0[n]! + cr[n]!;
  if (dc0) for (let n = 0; n < stateSize; n++) dc0[n] = dc0[n]! + cr[stateSize + n]!;
}

/**
 * Elementwise part of one step backwards (rows [row0, row0 + batch)): writes the pre-activation gradients
 * (i, f, g, o blocks) to d at dAt, replaces the running dc with the gradient at c_{t-1}, and zeroes the running
 * dh, which propagateDh then fills with the gradient at h_{t-1}.
 */
function lstmBackwardStep(
  d: Float64Array,
  dAt: number,
  cr: Float64Array,
  dh: Floats,
  h: Floats,
  c: Floats,
  gates: Floats,
  cPrev: Floats,
  cPrevAt: number,
  row0: number,
  batch: number,
  hidden: number,
): void {
  const gateWidth = 4 * hidden;
  const stateSize = batch * hidden;
  for (let b = 0; b < batch; b++) {
    const row = row0 + b;
    const at = row * hidden;
    const gAt = row * gateWidth;
    const sAt = b * hidden;
    const dRow = dAt + b * gateWidth;
    for (let m = 0; m < hidden; m++) {
      const i = gates[gAt + m]!;
      const f = gates[gAt + hidden + m]!;
      const g = gates[gAt + 2 * hidden + m]!;
      const o = gates[gAt + 3 * hidden + m]!;
      // tanh(c_t) = h_t / o_t where that is accurate (see the file comment); NaN (o = 0) falls through too.
      let tanhC = h[at + m]! / o;
      if (!(tanhC < 0.9 && tanhC > -0.9)) tanhC = Math.tanh(c[at + m]!);
      const dH = dh[at + m]! + cr[sAt + m]!;
      const dC = cr[stateSize + sAt + m]! + dH * o * (1 - tanhC * tanhC);
      d[dRow + m] = dC * g * i * (1 - i);
      d[dRow + hidden + m] = dC * cPrev[cPrevAt + sAt + m]! * f * (1 - f);
      d[dRow + 2 * hidden + m] = dC * i * (1 - g * g);
      d[dRow + 3 * hidden + m] = dH * tanhC * o * (1 - o);
      cr[sAt + m] = 0;
      cr[stateSize + sAt + m] = dC * f;
    }
  }
}
