import type { ActivationKind, Floats } from "../types.ts";

/** Reference twin of js/activations.ts: f and f' written one scalar at a time from their definitions. */
export function activation(kind: ActivationKind, x: number, alpha: number): number {
  switch (kind) {
    case "identity":
      return x;
    case "tanh":
      return Math.tanh(x);
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    case "relu":
      return Math.max(0, x);
    case "leakyRelu":
      return x >= 0 ? x : alpha * x;
    case "softsign":
      return x / (1 + Math.abs(x));
    case "silu":
      return x / (1 + Math.exp(-x));
    case "hardtanh":
      return Math.min(1, Math.max(-1, x));
  }
}

export function activationDerivative(kind: ActivationKind, x: number, alpha: number): number {
  switch (kind) {
    case "identity":
      return 1;
    case "tanh":
      return 1 - Math.tanh(x) ** 2;
    case "sigmoid": {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 - s);
    }
    case "relu":
      return x > 0 ? 1 : 0;
    case "leakyRelu":
      return x > 0 ? 1 : alpha;
    case "softsign":
      return 1 / (1 + Math.abs(x)) ** 2;
    case "silu": {
      const s = 1 / (1 + Math.exp(-x));
      return s + x * s * (1 - s);
    }
    case "hardtanh":
      return Math.abs(x) < 1 ? 1 : 0;
  }
}

export function activationForward(
  y: Floats,
  x: Floats,
  kind: ActivationKind,
  count: number,
  alpha: number,
): void {
  for (let i = 0; i < count; i++) y[i] = activation(kind, x[i]!, alpha);
}

export function activationBackward(
  dx: Floats,
  dy: Floats,
  x: Floats,
  _y: Floats,
  kind: ActivationKind,
  count: number,
  alpha: number,
): void {
  for (let i = 0; i < count; i++) dx[i]! += dy[i]! * activationDerivative(kind, x[i]!, alpha);
}
