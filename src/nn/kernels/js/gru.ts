/**
 * Fast GRU kernels (PyTorch nn.GRU semantics; ../reference/gru.ts has the equations). Time-major:
 * x [steps, batch, inputs], h [steps, batch, hidden], gates [steps, batch, 3 * hidden] holding r, z, n in three
 * blocks of `hidden`, hn [steps, batch, hidden] = W_hn h_{t-1} + b_hn.
 *
 * Same structure as ./lstm.ts: forward takes the sequences two at a time and computes the r, z and W_hn h
 * dot products of one hidden unit for both together from a per-call interleaved weight copy [unit][k][gate];
 * backward writes per-step pre-activation gradients into a chunk buffer laid out [r, z, hn, n] per row
 * (the hidden-side gradient is [r, z, hn], the input-side one [r, z, n]), propagates dh through a transposed
 * wHh, and accumulates the weight gradients once per chunk as blocked products into float64 accumulators.
 * Scratch memory lives in module-level Float64Arrays that grow on demand: nothing is allocated once warm.
 */
import type { Floats, GruBackwardArgs, GruForwardArgs, RecurrentShape } from "../types.ts";
import {
  accumulateColumnSums,
  accumulateOuter,
  grow,
  inputGradient,
  propagateDh,
  zerosLike,
} from "./recurrent.ts";

let forwardWeights: Float64Array = new Float64Array(0);

/** Fills h [steps, batch, hidden], gates [steps, batch, 3 * hidden] (r, z, n) and hn [steps, batch, hidden]. */
export function gruForward(args: GruForwardArgs, shape: RecurrentShape): void {
  const { h, gates, hn, x, wIh, wHh, bIh, bHh } = args;
  const { steps, batch, inputs, hidden } = shape;
  if (steps === 0 || batch === 0) return;
  // Per unit m: biases [m][4] = (b_ir + b_hr, b_iz + b_hz, b_hn, b_in) at 0; wIh [m][p][3] at wiAt and
  // wHh [m][k][3] at whAt, gates r, z, n (rows q * hidden + m).
  const wiAt = 4 * hidden;
  const whAt = wiAt + 3 * hidden * inputs;
  forwardWeights = grow(forwardWeights, whAt + 3 * hidden * hidden);
  const w = forwardWeights;
  for (let m = 0; m < hidden; m++) {
    w[4 * m] = bIh[m]! + bHh[m]!;
    w[4 * m + 1] = bIh[hidden + m]! + bHh[hidden + m]!;
    w[4 * m + 2] = bHh[2 * hidden + m]!;
    w[4 * m + 3] = bIh[2 * hidden + m]!;
    for (let q = 0; q < 3; q++) {
      const row = q * hidden + m;
      for (let p = 0; p < inputs; p++) w[wiAt + (m * inputs + p) * 3 + q] = wIh[row * inputs + p]!;
      for (let k = 0; k < hidden; k++) w[whAt + (m * hidden + k) * 3 + q] = wHh[row * hidden + k]!;
    }
  }
  const stateSize = batch * hidden;
  const h0 = args.h0 ?? zerosLike(h, stateSize);
  gruForwardStep(h, gates, hn, 0, x, w, wiAt, whAt, h0, 0, batch, inputs, hidden);
  for (let t = 1; t < steps; t++) {
    gruForwardStep(h, gates, hn, t * batch, x, w, wiAt, whAt, h, (t - 1) * stateSize, batch, inputs, hidden);
  }
}

/** One time step of every sequence: rows [row0, row0 + batch) of h, gates, hn and x, from hPrev at prevAt. */
function gruForwardStep(
  h: Floats,
  gates: Floats,
  hn: Floats,
  row0: number,
  x: Floats,
  w: Float64Array,
  wiAt: number,
  whAt: number,
  hPrev: Floats,
  prevAt: number,
  batch: number,
  inputs: number,
  hidden: number,
): void {
  const gateWidth = 3 * hidden;
  let b = 0;
  // Two sequences at a time: a* for row b, e* for row b + 1; *0 r, *1 z, *2 W_hn h + b_hn, *3 W_in x + b_in.
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
      let wp = wiAt + 3 * m * inputs;
      for (let p = 0; p < inputs; p++, wp += 3) {
        const xa = x[xAt + p]!;
        const xe = x[xAt + inputs + p]!;
        const w0 = w[wp]!;
        const w1 = w[wp + 1]!;
        const w2 = w[wp + 2]!;
        a0 += w0 * xa;
        a1 += w1 * xa;
        a3 += w2 * xa;
        e0 += w0 * xe;
        e1 += w1 * xe;
        e3 += w2 * xe;
      }
      wp = whAt + 3 * m * hidden;
      for (let k = 0; k < hidden; k++, wp += 3) {
        const ha = hPrev[pAt + k]!;
        const he = hPrev[pAt + hidden + k]!;
        const w0 = w[wp]!;
        const w1 = w[wp + 1]!;
        const w2 = w[wp + 2]!;
        a0 += w0 * ha;
        a1 += w1 * ha;
        a2 += w2 * ha;
        e0 += w0 * he;
        e1 += w1 * he;
        e2 += w2 * he;
      }
      const r = 1 / (1 + Math.exp(-a0));
      const z = 1 / (1 + Math.exp(-a1));
      const n = Math.tanh(a3 + r * a2);
      h[out + m] = (1 - z) * n + z * hPrev[pAt + m]!;
      hn[out + m] = a2;
      gates[gAt + m] = r;
      gates[gAt + hidden + m] = z;
      gates[gAt + 2 * hidden + m] = n;
      const r2 = 1 / (1 + Math.exp(-e0));
      const z2 = 1 / (1 + Math.exp(-e1));
      const n2 = Math.tanh(e3 + r2 * e2);
      h[out + hidden + m] = (1 - z2) * n2 + z2 * hPrev[pAt + hidden + m]!;
      hn[out + hidden + m] = e2;
      gates[gAt + gateWidth + m] = r2;
      gates[gAt + gateWidth + hidden + m] = z2;
      gates[gAt + gateWidth + 2 * hidden + m] = n2;
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
      let wp = wiAt + 3 * m * inputs;
      for (let p = 0; p < inputs; p++, wp += 3) {
        const xa = x[xAt + p]!;
        a0 += w[wp]! * xa;
        a1 += w[wp + 1]! * xa;
        a3 += w[wp + 2]! * xa;
      }
      wp = whAt + 3 * m * hidden;
      for (let k = 0; k < hidden; k++, wp += 3) {
        const ha = hPrev[pAt + k]!;
        a0 += w[wp]! * ha;
        a1 += w[wp + 1]! * ha;
        a2 += w[wp + 2]! * ha;
      }
      const r = 1 / (1 + Math.exp(-a0));
      const z = 1 / (1 + Math.exp(-a1));
      const n = Math.tanh(a3 + r * a2);
      h[out + m] = (1 - z) * n + z * hPrev[pAt + m]!;
      hn[out + m] = a2;
      gates[gAt + m] = r;
      gates[gAt + hidden + m] = z;
      gates[gAt + 2 * hidden + m] = n;
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
 * Backpropagation through time. Adds into dx (if not null), dwIh, dwHh, dbIh, dbHh and dh0 (if not null).
 * dh [steps, batch, hidden] is read only; dhT (null = zeros) arrives at the final state.
 */
export function gruBackward(args: GruBackwardArgs, shape: RecurrentShape): void {
  const { dx, dwIh, dwHh, dbIh, dbHh, dh0, dh, dhT, x, wIh, wHh, h, gates, hn, h0 } = args;
  const { steps, batch, inputs, hidden } = shape;
  const gateWidth = 3 * hidden;
  // Rows of the gradient buffer: [r, z, hn, n] pre-activation gradients, each `hidden` long.
  const dWidth = 4 * hidden;
  const stateSize = batch * hidden;
  // wHh^T [hidden, 3H] at 0; wIh^T [inputs, 4H] at wiT, laid out like the gradient rows with zeros under hn.
  const wiT = gateWidth * hidden;
  backwardWeights = grow(backwardWeights, wiT + dWidth * inputs);
  const wT = backwardWeights;
  for (let j = 0; j < gateWidth; j++) {
    for (let k = 0; k < hidden; k++) wT[k * gateWidth + j] = wHh[j * hidden + k]!;
  }
  for (let p = 0; p < inputs; p++) {
    const at = wiT + p * dWidth;
    for (let j = 0; j < 2 * hidden; j++) wT[at + j] = wIh[j * inputs + p]!;
    for (let m = 0; m < hidden; m++) {
      wT[at + 2 * hidden + m] = 0;
      wT[at + 3 * hidden + m] = wIh[(2 * hidden + m) * inputs + p]!;
    }
  }
  // Running gradient at h_t, arriving from step t + 1.
  carry = grow(carry, stateSize);
  const cr = carry;
  for (let n = 0; n < stateSize; n++) cr[n] = dhT ? dhT[n]! : 0;
  // Float64 accumulators: dwHh [3H, H] at 0, dwIh [3H, I] at accWi, column sums of the rows [4H] at accB.
  const accWi = gateWidth * hidden;
  const accB = accWi + gateWidth * inputs;
  accum = grow(accum, accB + dWidth);
  const acc = accum;
  acc.fill(0, 0, accB + dWidth);

  const chunk = Math.max(1, Math.min(steps, Math.floor(CHUNK_VALUES / (batch * dWidth))));
  dPre = grow(dPre, chunk * batch * dWidth);
  const d = dPre;
  const h0Values = h0 ?? zerosLike(h, stateSize);
  for (let tEnd = steps; tEnd > 0; tEnd -= chunk) {
    const tStart = Math.max(0, tEnd - chunk);
    for (let t = tEnd - 1; t >= tStart; t--) {
      const dAt = (t - tStart) * batch * dWidth;
      const hPrev = t > 0 ? h : h0Values;
      const hPrevAt = t > 0 ? (t - 1) * stateSize : 0;
      gruBackwardStep(d, dAt, cr, dh, gates, hn, hPrev, hPrevAt, t * batch, batch, hidden);
      if (dx) inputGradient(dx, d, dAt, wT, wiT, t * batch, batch, inputs, dWidth);
      propagateDh(cr, d, dAt, dWidth, gateWidth, wT, batch, hidden);
    }
    // Weight gradients of the rows of steps [tStart, tEnd).
    const rows = (tEnd - tStart) * batch;
    accumulateColumnSums(acc, accB, d, dWidth, 0, dWidth, rows);
    const xAt = tStart * batch * inputs;
    accumulateOuter(acc, accWi, d, dWidth, 0, 2 * hidden, x, xAt, inputs, rows);
    accumulateOuter(acc, accWi + 2 * hidden * inputs, d, dWidth, 3 * hidden, hidden, x, xAt, inputs, rows);
    if (tStart > 0) {
      accumulateOuter(acc, 0, d, dWidth, 0, gateWidth, h, (tStart - 1) * stateSize, hidden, rows);
    } else {
      // Step 0 reads h0 (nothing to add when it is zeros); the later steps read h of the step before.
      if (h0) accumulateOuter(acc, 0, d, dWidth, 0, gateWidth, h0, 0, hidden, batch);
      accumulateOuter(acc, 0, d, dWidth, batch * dWidth, gateWidth, h, 0, hidden, rows - batch);
    }
  }
  for (let j = 0; j < 2 * hidden; j++) {
    dbIh[j] = dbIh[j]! + acc[accB + j]!;
    dbHh[j] = dbHh[j]! + acc[accB + j]!;
  }
  for (let m = 0; m < hidden; m++) {
    dbHh[2 * hidden + m] = dbHh[2 * hidden + m]! + acc[accB + 2 * hidden + m]!;
    dbIh[2 * hidden + m] = dbIh[2 * hidden + m]! + acc[accB + 3 * hidden + m]!;
  }
  for (let n = 0; n < gateWidth * hidden; n++) dwHh[n] = dwHh[n]! + acc[n]!;
  for (let n = 0; n < gateWidth * inputs; n++) dwIh[n] = dwIh[n]! + acc[accWi + n]!;
  if (dh0) for (let n = 0; n < stateSize; n++) dh0[n] = dh0[n]! + cr[n]!;
}

/**
 * Elementwise part of one step backwards (rows [row0, row0 + batch)): writes the pre-activation gradients
 * [r, z, hn, n] to d at dAt and replaces the running dh with its direct part z * dh, to which propagateDh
 * adds the part through the recurrent weights.
 */
function gruBackwardStep(
  d: Float64Array,
  dAt: number,
  cr: Float64Array,
  dh: Floats,
  gates: Floats,
  hn: Floats,
  hPrev: Floats,
  hPrevAt: number,
  row0: number,
  batch: number,
  hidden: number,
): void {
  const gateWidth = 3 * hidden;
  const dWidth = 4 * hidden;
  for (let b = 0; b < batch; b++) {
    const row = row0 + b;
    const at = row * hidden;
    const gAt = row * gateWidth;
    const sAt = b * hidden;
    const pAt = hPrevAt + sAt;
    const dRow = dAt + b * dWidth;
    for (let m = 0; m < hidden; m++) {
      const r = gates[gAt + m]!;
      const z = gates[gAt + hidden + m]!;
      const n = gates[gAt + 2 * hidden + m]!;
      const dH = dh[at + m]! + cr[sAt + m]!;
      const dN = dH * (1 - z) * (1 - n * n);
      d[dRow + m] = dN * hn[at + m]! * r * (1 - r);
      d[dRow + hidden + m] = dH * (hPrev[pAt + m]! - n) * z * (1 - z);
      d[dRow + 2 * hidden + m] = dN * r;
      d[dRow + 3 * hidden + m] = dN;
      cr[sAt + m] = dH * z;
    }
  }
}
