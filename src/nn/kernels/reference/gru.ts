/**
 * Reference GRU (PyTorch nn.GRU, one layer, time-major): straight from the equations, one sequence, one time
 * step and one hidden unit at a time. Slow and obviously correct; the fast kernels are tested against it.
 *
 *   r = s(W_ir x + b_ir + W_hr h + b_hr)            (rows [0, H) of wIh, wHh, bIh, bHh)
 *   z = s(W_iz x + b_iz + W_hz h + b_hz)            (rows [H, 2H))
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   (rows [2H, 3H))
 *   h' = (1 - z) * n + z * h
 */
import type { GruBackwardArgs, GruForwardArgs, RecurrentShape } from "../types.ts";

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** Fills h [steps, batch, hidden], gates [steps, batch, 3 * hidden] (r, z, n) and hn = W_hn h_{t-1} + b_hn. */
export function gruForward(args: GruForwardArgs, shape: RecurrentShape): void {
  const { h, gates, hn, x, wIh, wHh, bIh, bHh, h0 } = args;
  const { steps, batch, inputs, hidden } = shape;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const row = t * batch + b;
      const prevRow = (t - 1) * batch + b;
      const hPrev = (k: number): number => (t > 0 ? h[prevRow * hidden + k]! : h0 ? h0[b * hidden + k]! : 0);
      for (let m = 0; m < hidden; m++) {
        // Input-side and hidden-side pre-activations of gate q, biases included.
        const inputSide = [0, 0, 0];
        const hiddenSide = [0, 0, 0];
        for (let q = 0; q < 3; q++) {
          const gateRow = q * hidden + m;
          let si = bIh[gateRow]!;
          for (let p = 0; p < inputs; p++) si += wIh[gateRow * inputs + p]! * x[row * inputs + p]!;
          let sh = bHh[gateRow]!;
          for (let k = 0; k < hidden; k++) sh += wHh[gateRow * hidden + k]! * hPrev(k);
          inputSide[q] = si;
          hiddenSide[q] = sh;
        }
        const r = sigmoid(inputSide[0]! + hiddenSide[0]!);
        const z = sigmoid(inputSide[1]! + hiddenSide[1]!);
        const n = Math.tanh(inputSide[2]! + r * hiddenSide[2]!);
        h[row * hidden + m] = (1 - z) * n + z * hPrev(m);
        const gateBase = row * 3 * hidden;
        gates[gateBase + m] = r;
        gates[gateBase + hidden + m] = z;
        gates[gateBase + 2 * hidden + m] = n;
        hn[row * hidden + m] = hiddenSide[2]!;
      }
    }
  }
}

/**
 * Backpropagation through time. Adds into dx (if not null), dwIh, dwHh, dbIh, dbHh and dh0 (if not null).
 * dh [steps, batch, hidden] is the loss gradient at every h output; dhT (null = zeros) arrives at the final
 * state from later chunks.
 */
export function gruBackward(args: GruBackwardArgs, shape: RecurrentShape): void {
  const { dx, dwIh, dwHh, dbIh, dbHh, dh0, dh, dhT, x, wIh, wHh, h, gates, hn, h0 } = args;
  const { steps, batch, inputs, hidden } = shape;
  for (let b = 0; b < batch; b++) {
    let dhNext = Array.from({ length: hidden }, (_, m) => (dhT ? dhT[b * hidden + m]! : 0));
    for (let t = steps - 1; t >= 0; t--) {
      const row = t * batch + b;
      const prevRow = (t - 1) * batch + b;
      const hPrev = (k: number): number => (t > 0 ? h[prevRow * hidden + k]! : h0 ? h0[b * hidden + k]! : 0);
      // Gradients of the input-side (W_i* x + b_i*) and hidden-side (W_h* h + b_h*) pre-activations.
      const dInput = new Array<number>(3 * hidden).fill(0);
      const dHidden = new Array<number>(3 * hidden).fill(0);
      const dhPrev = new Array<number>(hidden).fill(0);
      for (let m = 0; m < hidden; m++) {
        const gateBase = row * 3 * hidden;
        const r = gates[gateBase + m]!;
        const z = gates[gateBase + hidden + m]!;
        const n = gates[gateBase + 2 * hidden + m]!;
        const dhTotal = dh[row * hidden + m]! + dhNext[m]!;
        const dN = dhTotal * (1 - z);
        const dZ = dhTotal * (hPrev(m) - n);
        dhPrev[m] = dhTotal * z;
        const dNPre = dN * (1 - n * n);
        const dR = dNPre * hn[row * hidden + m]!;
        const dRPre = dR * r * (1 - r);
        const dZPre = dZ * z * (1 - z);
        dInput[m] = dRPre;
        dInput[hidden + m] = dZPre;
        dInput[2 * hidden + m] = dNPre;
        dHidden[m] = dRPre;
        dHidden[hidden + m] = dZPre;
        dHidden[2 * hidden + m] = dNPre * r;
      }
      for (let j = 0; j < 3 * hidden; j++) {
        const di = dInput[j]!;
        const dhid = dHidden[j]!;
        dbIh[j] = dbIh[j]! + di;
        dbHh[j] = dbHh[j]! + dhid;
        for (let p = 0; p < inputs; p++) {
          dwIh[j * inputs + p] = dwIh[j * inputs + p]! + di * x[row * inputs + p]!;
          if (dx) dx[row * inputs + p] = dx[row * inputs + p]! + di * wIh[j * inputs + p]!;
        }
        for (let k = 0; k < hidden; k++) {
          dwHh[j * hidden + k] = dwHh[j * hidden + k]! + dhid * hPrev(k);
          dhPrev[k] = dhPrev[k]! + dhid * wHh[j * hidden + k]!;
        }
      }
      dhNext = dhPrev;
    }
    if (dh0) for (let m = 0; m < hidden; m++) dh0[b * hidden + m] = dh0[b * hidden + m]! + dhNext[m]!;
  }
}
