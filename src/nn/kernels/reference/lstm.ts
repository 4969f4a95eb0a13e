/**
 * Reference LSTM (PyTorch nn.LSTM, one layer, time-major): straight from the equations, one sequence, one
 * time step and one hidden unit at a time. Slow and obviously correct; the fast kernels are tested against it.
 *
 *   i = s(W_ii x + b_ii + W_hi h + b_hi)      (rows [0, H) of wIh, wHh, bIh, bHh)
 *   f = s(W_if x + b_if + W_hf h + b_hf)      (rows [H, 2H))
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg)   (rows [2H, 3H))
 *   o = s(W_io x + b_io + W_ho h + b_ho)      (rows [3H, 4H))
 *   c' = f * c + i * g;  h' = o * tanh(c')
 */
import type { LstmBackwardArgs, LstmForwardArgs, RecurrentShape } from "../types.ts";

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** Fills h, c [steps, batch, hidden] and gates [steps, batch, 4 * hidden] (i, f, g, o after activation). */
export function lstmForward(args: LstmForwardArgs, shape: RecurrentShape): void {
  const { h, c, gates, x, wIh, wHh, bIh, bHh, h0, c0 } = args;
  const { steps, batch, inputs, hidden } = shape;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const row = t * batch + b;
      const prevRow = (t - 1) * batch + b;
      const hPrev = (k: number): number => (t > 0 ? h[prevRow * hidden + k]! : h0 ? h0[b * hidden + k]! : 0);
      const cPrev = (m: number): number => (t > 0 ? c[prevRow * hidden + m]! : c0 ? c0[b * hidden + m]! : 0);
      for (let m = 0; m < hidden; m++) {
        const pre = [0, 0, 0, 0];
        for (let q = 0; q < 4; q++) {
          const gateRow = q * hidden + m;
          let sum = bIh[gateRow]! + bHh[gateRow]!;
          for (let p = 0; p < inputs; p++) sum += wIh[gateRow * inputs + p]! * x[row * inputs + p]!;
          for (let k = 0; k < hidden; k++) sum += wHh[gateRow * hidden + k]! * hPrev(k);
          pre[q] = sum;
        }
        const i = sigmoid(pre[0]!);
        const f = sigmoid(pre[1]!);
        const g = Math.tanh(pre[2]!);
        const o = sigmoid(pre[3]!);
        const cNew = f * cPrev(m) + i * g;
        c[row * hidden + m] = cNew;
        h[row * hidden + m] = o * Math.tanh(cNew);
        const gateBase = row * 4 * hidden;
        gates[gateBase + m] = i;
        gates[gateBase + hidden + m] = f;
        gates[gateBase + 2 * hidden + m] = g;
        gates[gateBase + 3 * hidden + m] = o;
      }
    }
  }
}

/**
 * Backpropagation through time. Adds into dx (if not null), dwIh, dwHh, dbIh, dbHh, dh0, dc0 (if not null).
 * dh [steps, batch, hidden] is the loss gradient at every h output; dhT / dcT (null = zeros) arrive at the
 * final states from later chunks.
 */
export function lstmBackward(args: LstmBackwardArgs, shape: RecurrentShape): void {
  const { dx, dwIh, dwHh, dbIh, dbHh, dh0, dc0, dh, dhT, dcT, x, wIh, wHh, h, c, gates, h0, c0 } = args;
  const { steps, batch, inputs, hidden } = shape;
  for (let b = 0; b < batch; b++) {
    // Gradients arriving at h_t and c_t from step t + 1.
    let dhNext = Array.from({ length: hidden }, (_, m) => (dhT ? dhT[b * hidden + m]! : 0));
    let dcNext = Array.from({ length: hidden }, (_, m) => (dcT ? dcT[b * hidden + m]! : 0));
    for (let t = steps - 1; t >= 0; t--) {
      const row = t * batch + b;
      const prevRow = (t - 1) * batch + b;
      const hPrev = (k: number): number => (t > 0 ? h[prevRow * hidden + k]! : h0 ? h0[b * hidden + k]! : 0);
      const cPrev = (m: number): number => (t > 0 ? c[prevRow * hidden + m]! : c0 ? c0[b * hidden + m]! : 0);
      // Gradients of the gate pre-activations, rows i, f, g, o.
      const dPre = new Array<number>(4 * hidden).fill(0);
      const dcPrev = new Array<number>(hidden).fill(0);
      for (let m = 0; m < hidden; m++) {
        const gateBase = row * 4 * hidden;
        const i = gates[gateBase + m]!;
        const f = gates[gateBase + hidden + m]!;
        const g = gates[gateBase + 2 * hidden + m]!;
        const o = gates[gateBase + 3 * hidden + m]!;
        const tanhC = Math.tanh(c[row * hidden + m]!);
        const dhTotal = dh[row * hidden + m]! + dhNext[m]!;
        const dcTotal = dcNext[m]! + dhTotal * o * (1 - tanhC * tanhC);
        const dI = dcTotal * g;
        const dF = dcTotal * cPrev(m);
        const dG = dcTotal * i;
        const dO = dhTotal * tanhC;
        dPre[m] = dI * i * (1 - i);
        dPre[hidden + m] = dF * f * (1 - f);
        dPre[2 * hidden + m] = dG * (1 - g * g);
        dPre[3 * hidden + m] = dO * o * (1 - o);
        dcPrev[m] = dcTotal * f;
      }
      const dhPrev = new Array<number>(hidden).fill(0);
      for (let j = 0; j < 4 * hidden; j++) {
        const d = dPre[j]!;
        dbIh[j] = dbIh[j]! + d;
        dbHh[j] = dbHh[j]! + d;
        for (let p = 0; p < inputs; p++) {
          dwIh[j * inputs + p] = dwIh[j * inputs + p]! + d * x[row * inputs + p]!;
          if (dx) dx[row * inputs + p] = dx[row * inputs + p]! + d * wIh[j * inputs + p]!;
        }
        for (let k = 0; k < hidden; k++) {
          dwHh[j * hidden + k] = dwHh[j * hidden + k]! + d * hPrev(k);
          dhPrev[k] = dhPrev[k]! + d * wHh[j * hidden + k]!;
        }
      }
      dhNext = dhPrev;
      dcNext = dcPrev;
    }
    for (let m = 0; m < hidden; m++) {
      if (dh0) dh0[b * hidden + m] = dh0[b * hidden + m]! + dhNext[m]!;
      if (dc0) dc0[b * hidden + m] = dc0[b * hidden + m]! + dcNext[m]!;
    }
  }
}
