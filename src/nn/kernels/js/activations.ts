import type { ActivationKind, Floats } from "../types.ts";

/**
 * Elementwise activations, exact (Math.tanh, Math.exp). y may alias x. `alpha`: leaky-ReLU's negative slope.
 *   sigmoid(x) = 1 / (1 + e^-x); softsign(x) = x / (1 + |x|); silu(x) = x sigmoid(x);
 *   hardtanh(x) = clamp(x, -1, 1); leakyRelu(x) = x > 0 ? x : alpha x.
 */
export function activationForward(
  y: Floats,
  x: Floats,
  kind: ActivationKind,
  count: number,
  alpha: number,
): void {
  switch (kind) {
    case "identity":
      if (y !== x) for (let i = 0; i < count; i++) y[i] = x[i]!;
      return;
    case "tanh":
      for (let i = 0; i < count; i++) y[i] = Math.tanh(x[i]!);
      return;
    case "sigmoid":
      for (let i = 0; i < count; i++) y[i] = 1 / (1 + Math.exp(-x[i]!));
      return;
    case "relu":
      for (let i = 0; i < count; i++) y[i] = Math.max(x[i]!, 0);
      return;
    case "leakyRelu":
      for (let i = 0; i < count; i++) y[i] = x[i]! > 0 ? x[i]! : alpha * x[i]!;
      return;
    case "softsign":
      for (let i = 0; i < count; i++) y[i] = x[i]! / (1 + Math.abs(x[i]!));
      return;
    case "silu":
      for (let i = 0; i < count; i++) y[i] = x[i]! / (1 + Math.exp(-x[i]!));
      return;
    case "hardtanh":
      for (let i = 0; i < count; i++) y[i] = Math.min(Math.max(x[i]!, -1), 1);
      return;
  }
}

/** dx[i] += dy[i] f'(x[i]); tanh and sigmoid use y = f(x) from the forward pass. dx must not alias dy. */
export function activationBackward(
  dx: Floats,
  dy: Floats,
  x: Floats,
  y: Floats,
  kind: ActivationKind,
  count: number,
  alpha: number,
): void {
  switch (kind) {
    case "identity":
      for (let i = 0; i < count; i++) dx[i]! += dy[i]!;
      return;
    case "tanh":
      for (let i = 0; i < count; i++) dx[i]! += dy[i]! * (1 - y[i]! * y[i]!);
      return;
    case "sigmoid":
      for (let i = 0; i < count; i++) dx[i]! += dy[i]! * y[i]! * (1 - y[i]!);
      return;
    case "relu":
      for (let i = 0; i < count; i++) if (x[i]! > 0) dx[i]! += dy[i]!;
      return;
    case "leakyRelu":
      for (let i = 0; i < count; i++) dx[i]! += x[i]! > 0 ? dy[i]! : alpha * dy[i]!;
      return;
    case "softsign":
      for (let i = 0; i < count; i++) {
        const d = 1 + Math.abs(x[i]!);
        dx[i]! += dy[i]! / (d * d);
      }
      return;
    case "silu":
      for (let i = 0; i < count; i++) {
        const s = 1 / (1 + Math.exp(-x[i]!));
        dx[i]! += dy[i]! * s * (1 + x[i]! * (1 - s));
      }
      return;
    case "hardtanh":
      for (let i = 0; i < count; i++) if (x[i]! > -1 && x[i]! < 1) dx[i]! += dy[i]!;
      return;
  }
}
