import type { ActivationKind } from "../nn/kernels/types.ts";

/*
 * The inference loops of the streaming runtime. Every function works on Float32Array "rows": channel c of a
 * signal sits at data[at + c * stride + t] for block sample t, so a history buffer (block at `pos` of a longer
 * row) and a plain block scratch buffer (at 0) are read the same way. Nothing here allocates, throws or logs,
 * and each output sample is computed with the same operations in the same order whatever block it falls in,
 * so a processor's output does not depend on how a signal is split into blocks. These small functions are
 * what a WebAssembly SIMD backend replaces.
 */

/**
 * Dilated causal convolution over a block whose history precedes it in the input rows:
 *   out[o, t] (+)= bias[o] + sum_{j, k} w[o, j, k] inp[g * inPer + j, t + k * dilation]      (o in group g)
 * for t < frames, where `inAt` points at the OLDEST tap of output sample 0 (the block start minus
 * (kernelSize - 1) * dilation). w [outChannels, inChannels / groups, kernelSize] (PyTorch Conv1d layout);
 * bias [outChannels] | null. With `accumulate` the result is added to out, else it overwrites out.
 * Four output rows x four (channel, tap) pairs per pass over the block: 16 weights in locals, 4 input loads
 * and 4 output read-modify-writes per sample.
 */
export function convBlock(
  out: Float32Array,
  outAt: number,
  outStride: number,
  inp: Float32Array,
  inAt: number,
  inStride: number,
  w: Float32Array,
  bias: Float32Array | null,
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  dilation: number,
  groups: number,
  frames: number,
  accumulate: boolean,
): void {
  const inPer = inChannels / groups;
  const outPer = outChannels / groups;
  const pairs = inPer * kernelSize;
  for (let g = 0; g < groups; g++) {
    const inBase = inAt + g * inPer * inStride;
    const oEnd = (g + 1) * outPer;
    let o = g * outPer;
    for (; o + 4 <= oEnd; o += 4) {
      const r0 = outAt + o * outStride;
      startRows(out, r0, outStride, 4, bias, o, frames, accumulate);
      convRows4(out, r0, outStride, inp, inBase, inStride, w, o * pairs, pairs, kernelSize, dilation, frames);
    }
    for (; o < oEnd; o++) {
      const r0 = outAt + o * outStride;
      startRows(out, r0, outStride, 1, bias, o, frames, accumulate);
      convRow1(out, r0, inp, inBase, inStride, w, o * pairs, kernelSize, dilation, pairs, frames);
    }
  }
}

/** Sets `count` rows to their bias (or 0), or adds the bias to them when accumulating. */
function startRows(
  out: Float32Array,
  r0: number,
  stride: number,
  count: number,
  bias: Float32Array | null,
  biasFirst: number,
  frames: number,
  accumulate: boolean,
): void {
  for (let r = 0; r < count; r++) {
    const row = r0 + r * stride;
    if (!accumulate) {
      // A loop, not fill(): a builtin called with a non-integer number boxes it (a heap allocation).
      const b = bias === null ? 0 : bias[biasFirst + r]!;
      for (let t = 0; t < frames; t++) out[row + t] = b;
    } else if (bias !== null) {
      const b = bias[biasFirst + r]!;
      for (let t = 0; t < frames; t++) out[row + t]! += b;
    }
  }
}

/** Four output rows (r0 + q * stride, filters at wRow + q * pairs) of convBlock. */
function convRows4(
  out: Float32Array,
  r0: number,
  stride: number,
  inp: Float32Array,
  inBase: number,
  inStride: number,
  w: Float32Array,
  wRow: number,
  pairs: number,
  kernelSize: number,
  dilation: number,
  frames: number,
): void {
  const r1 = r0 + stride;
  const r2 = r1 + stride;
  const r3 = r2 + stride;
  let c = 0;
  let k = 0;
  let n = 0;
  for (; n + 4 <= pairs; n += 4) {
    const p0 = inBase + c * inStride + k * dilation;
    const j0 = wRow + n;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const p1 = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const p2 = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const p3 = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const w00 = w[j0]!;
    const w01 = w[j0 + 1]!;
    const w02 = w[j0 + 2]!;
    const w03 = w[j0 + 3]!;
    const w10 = w[j0 + pairs]!;
    const w11 = w[j0 + pairs + 1]!;
    const w12 = w[j0 + pairs + 2]!;
    const w13 = w[j0 + pairs + 3]!;
    const w20 = w[j0 + 2 * pairs]!;
    const w21 = w[j0 + 2 * pairs + 1]!;
    const w22 = w[j0 + 2 * pairs + 2]!;
    const w23 = w[j0 + 2 * pairs + 3]!;
    const w30 = w[j0 + 3 * pairs]!;
    const w31 = w[j0 + 3 * pairs + 1]!;
    const w32 = w[j0 + 3 * pairs + 2]!;
    const w33 = w[j0 + 3 * pairs + 3]!;
    for (let t = 0; t < frames; t++) {
      const x0 = inp[p0 + t]!;
      const x1 = inp[p1 + t]!;
      const x2 = inp[p2 + t]!;
      const x3 = inp[p3 + t]!;
      out[r0 + t]! += w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3;
      out[r1 + t]! += w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3;
      out[r2 + t]! += w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3;
      out[r3 + t]! += w30 * x0 + w31 * x1 + w32 * x2 + w33 * x3;
    }
  }
  for (; n < pairs; n++) {
    const p = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const j = wRow + n;
    const v0 = w[j]!;
    const v1 = w[j + pairs]!;
    const v2 = w[j + 2 * pairs]!;
    const v3 = w[j + 3 * pairs]!;
    for (let t = 0; t < frames; t++) {
      const xv = inp[p + t]!;
      out[r0 + t]! += v0 * xv;
      out[r1 + t]! += v1 * xv;
      out[r2 + t]! += v2 * xv;
      out[r3 + t]! += v3 * xv;
    }
  }
}

/** One output row of convBlock: four (channel, tap) pairs per pass over the block. */
function convRow1(
  out: Float32Array,
  row: number,
  inp: Float32Array,
  inBase: number,
  inStride: number,
  w: Float32Array,
  wRow: number,
  kernelSize: number,
  dilation: number,
  pairs: number,
  frames: number,
): void {
  let c = 0;
  let k = 0;
  let n = 0;
  for (; n + 4 <= pairs; n += 4) {
    const p0 = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const p1 = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const p2 = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const p3 = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const v0 = w[wRow + n]!;
    const v1 = w[wRow + n + 1]!;
    const v2 = w[wRow + n + 2]!;
    const v3 = w[wRow + n + 3]!;
    for (let t = 0; t < frames; t++) {
      out[row + t]! += v0 * inp[p0 + t]! + v1 * inp[p1 + t]! + v2 * inp[p2 + t]! + v3 * inp[p3 + t]!;
    }
  }
  for (; n < pairs; n++) {
    const p = inBase + c * inStride + k * dilation;
    if (++k === kernelSize) {
      k = 0;
      c++;
    }
    const v = w[wRow + n]!;
    for (let t = 0; t < frames; t++) out[row + t]! += v * inp[p + t]!;
  }
}

/**
 * In place, rows [at + c * stride, + frames) for c < channels: y = f(y), exact (Math.tanh, Math.exp), the
 * same formulas as the training kernels (leaky ReLU slope 0.01, as ActivationLayer's default).
 */
export function activateRows(
  data: Float32Array,
  at: number,
  stride: number,
  channels: number,
  frames: number,
  kind: ActivationKind,
): void {
  for (let c = 0; c < channels; c++) activateRow(data, at + c * stride, frames, kind);
}

function activateRow(y: Float32Array, at: number, frames: number, kind: ActivationKind): void {
  const end = at + frames;
  switch (kind) {
    case "identity":
      return;
    case "tanh":
      for (let i = at; i < end; i++) y[i] = Math.tanh(y[i]!);
      return;
    case "sigmoid":
      for (let i = at; i < end; i++) y[i] = 1 / (1 + Math.exp(-y[i]!));
      return;
    case "relu":
      for (let i = at; i < end; i++) y[i] = Math.max(y[i]!, 0);
      return;
    case "leakyRelu":
      for (let i = at; i < end; i++) {
        const v = y[i]!;
        y[i] = v > 0 ? v : 0.01 * v;
      }
      return;
    case "softsign":
      for (let i = at; i < end; i++) {
        const v = y[i]!;
        y[i] = v / (1 + Math.abs(v));
      }
      return;
    case "silu":
      for (let i = at; i < end; i++) {
        const v = y[i]!;
        y[i] = v / (1 + Math.exp(-v));
      }
      return;
    case "hardtanh":
      for (let i = at; i < end; i++) y[i] = Math.min(Math.max(y[i]!, -1), 1);
      return;
  }
}

/**
 * WaveNet's gate, the second factor: out[c, t] = a[c, t] * sigmoid(b[c, t]) for c < channels, where the
 * caller has already applied the activation to a (so tanh(a) sigmoid(b) for the classic gate). a, b and
 * out are rows of the same array layout; out may be a.
 */
export function gateRows(
  out: Float32Array,
  outAt: number,
  outStride: number,
  inp: Float32Array,
  aAt: number,
  bAt: number,
  inStride: number,
  channels: number,
  frames: number,
): void {
  for (let c = 0; c < channels; c++) {
    const o = outAt + c * outStride;
    const a = aAt + c * inStride;
    const b = bAt + c * inStride;
    for (let t = 0; t < frames; t++) out[o + t] = inp[a + t]! / (1 + Math.exp(-inp[b + t]!));
  }
}

/** dst[c, t] += src[c, t] for c < channels, t < frames. */
export function addRows(
  dst: Float32Array,
  dstAt: number,
  dstStride: number,
  src: Float32Array,
  srcAt: number,
  srcStride: number,
  channels: number,
  frames: number,
): void {
  for (let c = 0; c < channels; c++) {
    const d = dstAt + c * dstStride;
    const s = srcAt + c * srcStride;
    for (let t = 0; t < frames; t++) dst[d + t]! += src[s + t]!;
  }
}

/** data[c, t] *= scale[0] for c < channels, t < frames. */
export function scaleRows(
  data: Float32Array,
  at: number,
  stride: number,
  channels: number,
  frames: number,
  scales: Float64Array,
): void {
  const scale = scales[0]!;
  for (let c = 0; c < channels; c++) {
    const row = at + c * stride;
    for (let t = 0; t < frames; t++) data[row + t] = scale * data[row + t]!;
  }
}

/** dst[dstAt + t] = src[srcAt + t] for t < frames (a plain loop: `subarray` would allocate a view). */
export function copySamples(
  dst: Float32Array,
  dstAt: number,
  src: Float32Array,
  srcAt: number,
  frames: number,
): void {
  for (let t = 0; t < frames; t++) dst[dstAt + t] = src[srcAt + t]!;
}

/**
 * Interleaves one LSTM/GRU layer's PyTorch tensors for the step loops below (the layout of the training
 * kernels, so the sums run in the same order): per unit m, biases at [gates * m + q] (LSTM: bIh + bHh per
 * gate i, f, g, o; GRU: b_ir + b_hr, b_iz + b_hz, b_hn, b_in), then wIh [m][p][q] at 4 * hidden and
 * wHh [m][k][q] after it, q over the G gates (rows q * hidden + m of the PyTorch tensors).
 */
export function interleaveRecurrent(
  cell: "lstm" | "gru",
  wIh: ArrayLike<number>,
  wHh: ArrayLike<number>,
  bIh: ArrayLike<number>,
  bHh: ArrayLike<number>,
  inputs: number,
  hidden: number,
): Float64Array {
  const gates = cell === "lstm" ? 4 : 3;
  const wiAt = 4 * hidden;
  const whAt = wiAt + gates * hidden * inputs;
  const w = new Float64Array(whAt + gates * hidden * hidden);
  for (let m = 0; m < hidden; m++) {
    if (cell === "lstm") {
      for (let q = 0; q < 4; q++) w[4 * m + q] = bIh[q * hidden + m]! + bHh[q * hidden + m]!;
    } else {
      w[4 * m] = bIh[m]! + bHh[m]!;
      w[4 * m + 1] = bIh[hidden + m]! + bHh[hidden + m]!;
      w[4 * m + 2] = bHh[2 * hidden + m]!;
      w[4 * m + 3] = bIh[2 * hidden + m]!;
    }
    for (let q = 0; q < gates; q++) {
      const row = q * hidden + m;
      for (let p = 0; p < inputs; p++) w[wiAt + (m * inputs + p) * gates + q] = wIh[row * inputs + p]!;
      for (let k = 0; k < hidden; k++) w[whAt + (m * hidden + k) * gates + q] = wHh[row * hidden + k]!;
    }
  }
  return w;
}

/**
 * `frames` LSTM steps (PyTorch nn.LSTM). Time-major rows: x [t][inputs] at xAt, h [t + 1][hidden] where row 0
 * holds the state before the block and row t + 1 the state after step t; c [hidden] is updated in place.
 * w from interleaveRecurrent. Same arithmetic as the training kernel's single-sequence path.
 */
export function lstmSteps(
  h: Float32Array,
  c: Float32Array,
  x: Float32Array,
  xAt: number,
  w: Float64Array,
  inputs: number,
  hidden: number,
  frames: number,
): void {
  const wiAt = 4 * hidden;
  const whAt = wiAt + 4 * hidden * inputs;
  for (let t = 0; t < frames; t++) {
    const xRow = xAt + t * inputs;
    const prev = t * hidden;
    const next = prev + hidden;
    for (let m = 0; m < hidden; m++) {
      let a0 = w[4 * m]!;
      let a1 = w[4 * m + 1]!;
      let a2 = w[4 * m + 2]!;
      let a3 = w[4 * m + 3]!;
      let wp = wiAt + 4 * m * inputs;
      for (let p = 0; p < inputs; p++, wp += 4) {
        const xa = x[xRow + p]!;
        a0 += w[wp]! * xa;
        a1 += w[wp + 1]! * xa;
        a2 += w[wp + 2]! * xa;
        a3 += w[wp + 3]! * xa;
      }
      wp = whAt + 4 * m * hidden;
      for (let k = 0; k < hidden; k++, wp += 4) {
        const ha = h[prev + k]!;
        a0 += w[wp]! * ha;
        a1 += w[wp + 1]! * ha;
        a2 += w[wp + 2]! * ha;
        a3 += w[wp + 3]! * ha;
      }
      const i = 1 / (1 + Math.exp(-a0));
      const f = 1 / (1 + Math.exp(-a1));
      const g = Math.tanh(a2);
      const o = 1 / (1 + Math.exp(-a3));
      const cNew = f * c[m]! + i * g;
      c[m] = cNew;
      h[next + m] = o * Math.tanh(cNew);
    }
  }
}

/**
 * `frames` GRU steps (PyTorch nn.GRU): r = s(.), z = s(.), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
 * h' = (1 - z) n + z h. Layouts as lstmSteps (no cell state).
 */
export function gruSteps(
  h: Float32Array,
  x: Float32Array,
  xAt: number,
  w: Float64Array,
  inputs: number,
  hidden: number,
  frames: number,
): void {
  const wiAt = 4 * hidden;
  const whAt = wiAt + 3 * hidden * inputs;
  for (let t = 0; t < frames; t++) {
    const xRow = xAt + t * inputs;
    const prev = t * hidden;
    const next = prev + hidden;
    for (let m = 0; m < hidden; m++) {
      let a0 = w[4 * m]!;
      let a1 = w[4 * m + 1]!;
      let a2 = w[4 * m + 2]!;
      let a3 = w[4 * m + 3]!;
      let wp = wiAt + 3 * m * inputs;
      for (let p = 0; p < inputs; p++, wp += 3) {
        const xa = x[xRow + p]!;
        a0 += w[wp]! * xa;
        a1 += w[wp + 1]! * xa;
        a3 += w[wp + 2]! * xa;
      }
      wp = whAt + 3 * m * hidden;
      for (let k = 0; k < hidden; k++, wp += 3) {
        const ha = h[prev + k]!;
        a0 += w[wp]! * ha;
        a1 += w[wp + 1]! * ha;
        a2 += w[wp + 2]! * ha;
      }
      const r = 1 / (1 + Math.exp(-a0));
      const z = 1 / (1 + Math.exp(-a1));
      const n = Math.tanh(a3 + r * a2);
      h[next + m] = (1 - z) * n + z * h[prev + m]!;
    }
  }
}
