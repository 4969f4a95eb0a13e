/**
 * The kernel contract. Kernels are pure functions over typed arrays (Float32Array for training, Float64Array
 * for gradient checks): outputs first, then inputs and weights, then a shape object. Forward kernels
 * overwrite their outputs; backward kernels ADD into gradient buffers (so gradients from several uses of a
 * tensor accumulate, and the caller zeroes them once per step). Kernels trust their inputs: shapes are
 * checked once, at the layer that calls them.
 *
 * Memory orders (row-major, last index fastest):
 *   dense        x [rows, inputs], w [outputs, inputs] (PyTorch nn.Linear), y [rows, outputs]
 *   conv1d       x [batch, inChannels, inLength], w [outChannels, inChannels / groups, kernelSize] (PyTorch
 *                nn.Conv1d), y [batch, outChannels, outLength]
 *   recurrent    time-major sequences: x [steps, batch, inputs], h [steps, batch, hidden]; weights in PyTorch's
 *                layout and gate order (LSTM i, f, g, o; GRU r, z, n): wIh [G * hidden, inputs],
 *                wHh [G * hidden, hidden], bIh / bHh [G * hidden]; G = 4 (LSTM) or 3 (GRU)
 *   gated        x [batch, 2 * channels, length] -> y [batch, channels, length]: y = tanh(x[:C]) * sigmoid(x[C:])
 *
 * `Kernels` is the interface a backend implements: `jsKernels` (plain TypeScript, the default) and, later,
 * a WebAssembly SIMD backend. `referenceKernels` are the obviously-correct twins every backend is tested
 * against.
 */
export type Floats = Float32Array | Float64Array;

export type ActivationKind =
  | "identity"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "leakyRelu"
  | "softsign"
  | "silu"
  | "hardtanh";

export interface DenseShape {
  rows: number;
  inputs: number;
  outputs: number;
}

export interface ConvShape {
  batch: number;
  inChannels: number;
  outChannels: number;
  /** Input samples per channel. */
  inLength: number;
  kernelSize: number;
  /** Spacing between kernel taps, >= 1. */
  dilation: number;
  /** inChannels and outChannels are both divisible by groups; group g maps its inputs to its outputs. */
  groups: number;
  /**
   * Implicit zeros before the input (causal padding): y[t] sees x[t - padLeft + k * dilation].
   * outLength = inLength + padLeft - (kernelSize - 1) * dilation.
   */
  padLeft: number;
}

export interface RecurrentShape {
  steps: number;
  batch: number;
  inputs: number;
  hidden: number;
}

/** LSTM forward: outputs and what backward needs. */
export interface LstmForwardArgs {
  /** [steps, batch, hidden] out: hidden state after each step (h[T-1] is the final state). */
  h: Floats;
  /** [steps, batch, hidden] out: cell state after each step. */
  c: Floats;
  /** [steps, batch, 4 * hidden] out: gate activations i, f, g, o (after sigmoid / tanh), saved for backward. */
  gates: Floats;
  /** [steps, batch, inputs] */
  x: Floats;
  wIh: Floats;
  wHh: Floats;
  bIh: Floats;
  bHh: Floats;
  /** [batch, hidden] initial states; null = zeros. */
  h0: Floats | null;
  c0: Floats | null;
}

export interface LstmBackwardArgs {
  /** [steps, batch, inputs] += ; null when the input needs no gradient. */
  dx: Floats | null;
  dwIh: Floats;
  dwHh: Floats;
  dbIh: Floats;
  dbHh: Floats;
  /** [batch, hidden] += gradients of the initial states; null when not wanted. */
  dh0: Floats | null;
  dc0: Floats | null;
  /** [steps, batch, hidden] gradient of the loss with respect to every h output. Read only. */
  dh: Floats;
  /** [batch, hidden] gradients arriving at the final states from later steps; null = zeros. */
  dhT: Floats | null;
  dcT: Floats | null;
  /** Forward inputs and saved values. */
  x: Floats;
  wIh: Floats;
  wHh: Floats;
  h: Floats;
  c: Floats;
  gates: Floats;
  h0: Floats | null;
  c0: Floats | null;
}

export interface GruForwardArgs {
  /** [steps, batch, hidden] out. */
  h: Floats;
  /** [steps, batch, 3 * hidden] out: r, z, n after their activations. */
  gates: Floats;
  /** [steps, batch, hidden] out: W_hn h_{t-1} + b_hn, needed for the r gradient. */
  hn: Floats;
  x: Floats;
  wIh: Floats;
  wHh: Floats;
  bIh: Floats;
  bHh: Floats;
  h0: Floats | null;
}

export interface GruBackwardArgs {
  dx: Floats | null;
  dwIh: Floats;
  dwHh: Floats;
  dbIh: Floats;
  dbHh: Floats;
  dh0: Floats | null;
  dh: Floats;
  dhT: Floats | null;
  x: Floats;
  wIh: Floats;
  wHh: Floats;
  h: Floats;
  gates: Floats;
  hn: Floats;
  h0: Floats | null;
}

export interface Kernels {
  readonly name: string;

  /** y = x w^T + b (b may be null). */
  denseForward(y: Floats, x: Floats, w: Floats, b: Floats | null, shape: DenseShape): void;
  /** dx += dy w (dx may be null); dw += dy^T x; db += column sums of dy (db may be null). */
  denseBackward(
    dx: Floats | null,
    dw: Floats,
    db: Floats | null,
    dy: Floats,
    x: Floats,
    w: Floats,
    shape: DenseShape,
  ): void;

  /** y[i] = f(x[i]) for i < count; `alpha` is the leaky-ReLU negative slope. y may be x (in place). */
  activationForward(y: Floats, x: Floats, kind: ActivationKind, count: number, alpha: number): void;
  /** dx[i] += dy[i] * f'(x[i]); y = f(x) from the forward pass (tanh and sigmoid use it). */
  activationBackward(
    dx: Floats,
    dy: Floats,
    x: Floats,
    y: Floats,
    kind: ActivationKind,
    count: number,
    alpha: number,
  ): void;

  /** y = conv(x, w) + bias (bias may be null). */
  conv1dForward(y: Floats, x: Floats, w: Floats, bias: Floats | null, shape: ConvShape): void;
  /** dx += gradient of the conv with respect to its input. */
  conv1dBackwardData(dx: Floats, dy: Floats, w: Floats, shape: ConvShape): void;
  /** dw += gradient with respect to the filters; dbias += with respect to the bias (may be null). */
  conv1dBackwardWeights(dw: Floats, dbias: Floats | null, dy: Floats, x: Floats, shape: ConvShape): void;

  lstmForward(args: LstmForwardArgs, shape: RecurrentShape): void;
  lstmBackward(args: LstmBackwardArgs, shape: RecurrentShape): void;
  gruForward(args: GruForwardArgs, shape: RecurrentShape): void;
  gruBackward(args: GruBackwardArgs, shape: RecurrentShape): void;

  /** y [batch, channels, length] = tanh(x[:, :C]) * sigmoid(x[:, C:]). */
  gatedForward(y: Floats, x: Floats, batch: number, channels: number, length: number): void;
  /** dx [batch, 2C, length] += gradient through the gate. */
  gatedBackward(dx: Floats, dy: Floats, x: Floats, batch: number, channels: number, length: number): void;
}

/** Output length of a conv1d with this shape. */
export function convOutLength(shape: ConvShape): number {
  return shape.inLength + shape.padLeft - (shape.kernelSize - 1) * shape.dilation;
}
