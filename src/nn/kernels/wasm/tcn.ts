import type { ActivationKind } from "../types.ts";
import { stage, unstage } from "./activations.ts";
import { WASM_ACTIVATION_CODES, type WasmExports } from "./module.ts";
import { PlannedScratch, type WasmScratch } from "./scratch.ts";

/*
 * The gated TCN (src/nn/models/tcn.ts) trained as one fused wasm kernel: forward and backward of the whole stack
 * over activations that stay in this kernel's own wasm memory, so nothing is copied between JS arrays and wasm
 * but the input, the output and their gradients, and the parameters once per pass. Its reference twin is the
 * same model run layer by layer (TcnModel with the JS kernels); test/nn/models/tcn-wasm.test.ts checks the two
 * agree and checks the gradients by float32 central differences.
 *
 * Per batch item and layer i (width W, kernel K, dilation d, span = (K - 1) d), in the layouts below:
 *   z = conv(P_i)                   dilated conv over the padded rows P_i, 2W rows gated (W plain), + bias
 *   g = tanh(z[:W]) sigmoid(z[W:])  or f(z); saves tanh / sigmoid (or z and f(z)) in S_i for the backward pass
 *   skip += g                       (the last skipLength frames)
 *   h_{i+1} = h_i + residual(g)     into P_{i+1}; the last layer's residual feeds nothing and is not run
 * all of it one tile of TILE frames at a time, so z, g and residual(g) stay in L1 between the steps. The
 * backward pass runs the adjoint in reverse with the same tiles: dg = dskip + residual^T dh_{i+1}, then dz
 * through the gate into DZ_i, then the conv's weight gradient and dh_i = dh_{i+1} + conv^T dz for the whole
 * row. Weight gradients are float32 dot products within 512 frames summed in float64 (the conv kernels' scheme,
 * assembly/train-conv.ts), added to the model's gradients at the end of each backward pass.
 *
 * Rows of one item (floats; strides skewed by rowStride against L1 set aliasing):
 *   P_i   [W][lead + L_i ...]       h_i with `lead` zeros before it (lead = span when causal, else 0):
 *                                   tap k of output frame t reads P_i[t + k d]; h_{i+1}'s residual term is
 *                                   P_i[t + span] (h_i[t] causal, h_i[t + span] valid)
 *   S_i   [2W][L_{i+1}]             tanh(a), sigmoid(b) | z, f(z)
 *   skip  [W][skipLength]
 * Backward, reused for every item: D (two [W][L] buffers, dh_{i+1} and dh_i), DZ_i [2W][span + L_{i+1} + span]
 * per layer (dz between zeros on both sides, so conv^T is a correlation over it: zero regions are never
 * written), dskip [W][skipLength]. Row tails past the data may hold any finite values: every product that reads
 * them pairs them with a zero or is cropped, except D, whose tails are kept zero.
 */

/**
 * Frames per tile. For a 16-wide TCN the tile's z (32 rows), g and residual(g) take 64 KiB (L2); 64 and 128
 * frames (within L1) measured no faster, and 256 slightly fewer calls.
 */
const TILE = 256;

/** Frames per float32 partial sum of the weight gradients (then float64), as the conv kernels. */
const DOT_TILE = 512;

const up = (n: number, m: number): number => Math.ceil(n / m) * m;

/** A row stride >= n floats: a multiple of 16 floats that is an odd multiple (see ./conv.ts rowStride). */
function rowStride(n: number): number {
  const stride = up(n, 16);
  return (stride / 16) % 2 === 0 ? stride + 16 : stride;
}

/** What the fused kernel needs of a TcnModel. */
export interface TcnSpec {
  channels: number;
  width: number;
  kernelSize: number;
  dilations: readonly number[];
  gated: boolean;
  activation: ActivationKind;
  /** leaky ReLU's slope. */
  alpha: number;
  causal: boolean;
}

/** Offsets in the model's flat parameter array of one 1x1 or dilated conv's weight [out, in, K] and bias [out]. */
export interface ConvTensors {
  weight: number;
  bias: number;
}

export interface TcnTensors {
  /** Floats in the flat parameter array. */
  count: number;
  input: ConvTensors;
  convs: ConvTensors[];
  residuals: ConvTensors[];
  head: ConvTensors;
}

/** A conv's pre-splatted weights (convSplat) for the forward correlation and for its adjoint. */
interface ConvWeights {
  /** Output channels, input channels, taps; pairs = inputs x taps. */
  rows: number;
  inputs: number;
  taps: number;
  pairs: number;
  /** out = W in (+ bias): rows = outputs, pairs = inputs x taps. */
  forward: number;
  /** dIn += W^T dOut (taps flipped): rows = inputs, pairs = outputs x taps. */
  adjoint: number;
  /** float64 totals [rows][even pairs] of the weight gradient, and [rows] of the bias gradient. */
  totals: number;
  biasTotals: number;
}

/** One layer's memory and constants for the current shape. */
interface LayerPlan {
  dilation: number;
  span: number;
  lead: number;
  inLength: number;
  outLength: number;
  /** First output frame that reaches the skip sum. */
  skipOffset: number;
  pStride: number;
  /** P_i of item 0 (items follow each other, pItem floats apart). */
  p: number;
  pItem: number;
  sStride: number;
  s: number;
  sItem: number;
  dzStride: number;
  dz: number;
  /** Byte offsets of the conv's (input row, tap) pairs over P_i and of its adjoint's over DZ_i. */
  convOffsets: number;
  adjointOffsets: number;
  conv: ConvWeights;
  residual: ConvWeights;
}

interface Plan {
  batch: number;
  inLength: number;
  skipLength: number;
  layers: LayerPlan[];
  xStride: number;
  /** The input rows of every item (zero tails), and where one item's packed input is first copied. */
  x: number;
  xItem: number;
  xStage: number;
  skipStride: number;
  skip: number;
  skipItem: number;
  yStride: number;
  y: number;
  dStride: number;
  d: [number, number];
  dSkip: number;
  z: number;
  g: number;
  r: number;
  dummy: number;
  zeros: number;
  dummy64: number;
  inputOffsets: number;
  headOffsets: number;
  /** over a tile's g rows (the residual) and over D rows (its adjoint) */
  tileOffsets: number;
  dOffsets: number;
  /** over dy rows (the head's adjoint) */
  yOffsets: number;
  input: ConvWeights;
  head: ConvWeights;
  /** Every conv that runs, with its tensors: all but the last layer's residual (it feeds nothing). */
  convs: { w: ConvWeights; tensors: ConvTensors }[];
  /** The model's parameters and gradients, staged in. */
  values: number;
  grads: number;
}

/**
 * The fused kernel for one TcnModel. `forward` and `backward` take and give plain Float32Arrays laid out as the
 * model's Sequences; `backward` adds into the model's flat gradient array (for the last forward's batch).
 */
export class WasmTcn {
  private readonly spec: TcnSpec;
  private readonly tensors: TcnTensors;
  private readonly memory = new PlannedScratch<Plan>(
    (scratch, batch, inLength) => this.layout(scratch, batch, inLength),
    (plan, batch) => {
      plan.batch = batch;
    },
  );

  constructor(spec: TcnSpec, tensors: TcnTensors) {
    this.spec = spec;
    this.tensors = tensors;
  }

  /**
   * y [batch, channels, outLength] = the TCN of x [batch, channels, inLength] with `values` (the model's flat
   * parameters). Returns the floats of wasm memory this call newly reserved (0 once the shape has been seen).
   */
  forward(y: Float32Array, x: Float32Array, values: Float32Array, batch: number, inLength: number): number {
    const grown = this.memory.prepare(batch, inLength);
    const { plan, scratch } = this.memory;
    const f = scratch.exports;
    const heap = scratch.heap;
    const { channels, width } = this.spec;
    heap.set(values, plan.values >> 2);
    this.splat(plan, f);
    const L0 = plan.inLength;
    const skipLength = plan.skipLength;
    for (let b = 0; b < batch; b++) {
      const xb = plan.x + b * plan.xItem * 4;
      stage(heap, plan.xStage, x, b * channels * L0, channels * L0);
      f.convCopyRows!(xb, plan.xStride, 0, plan.xStage, L0, L0, channels, plan.xStride - L0);
      const first = plan.layers[0]!;
      const p0 = first.p + b * first.pItem * 4;
      correlate(
        f,
        plan,
        p0 + first.lead * 4,
        first.pStride,
        xb,
        plan.inputOffsets,
        plan.input,
        false,
        up(L0, 8),
        0,
      );
      const skip = plan.skip + b * plan.skipItem * 4;
      f.zeroRows!(skip, plan.skipStride, width, 0, skipLength);
      for (let i = 0; i < plan.layers.length; i++)
        this.layerForward(f, plan, plan.layers[i]!, plan.layers[i + 1] ?? null, b);
      correlate(
        f,
        plan,
        plan.y,
        plan.yStride,
        skip,
        plan.headOffsets,
        plan.head,
        false,
        up(skipLength, 8),
        0,
      );
      for (let c = 0; c < channels; c++) {
        const at = (plan.y >> 2) + c * plan.yStride;
        unstage(heap, at * 4, y, (b * channels + c) * skipLength, skipLength);
      }
    }
    return grown;
  }

  private layerForward(f: Exports, plan: Plan, layer: LayerPlan, next: LayerPlan | null, b: number): void {
    const { width, gated } = this.spec;
    const p = layer.p + b * layer.pItem * 4;
    const s = layer.s + b * layer.sItem * 4;
    const skip = plan.skip + b * plan.skipItem * 4;
    const pNext = next === null ? 0 : next.p + b * next.pItem * 4 + next.lead * 4;
    const code = WASM_ACTIVATION_CODES[this.spec.activation];
    for (let t0 = 0; t0 < layer.outLength; t0 += TILE) {
      const n = Math.min(TILE, layer.outLength - t0);
      const frames = up(n, 8);
      correlate(f, plan, plan.z, TILE, p + t0 * 4, layer.convOffsets, layer.conv, false, frames, 0);
      if (gated) f.gateRowsForward!(s + t0 * 4, layer.sStride, plan.g, TILE, plan.z, TILE, width, n, frames);
      else
        f.activationRowsForward!(
          s + t0 * 4,
          layer.sStride,
          plan.g,
          TILE,
          plan.z,
          TILE,
          width,
          n,
          frames,
          code,
          this.spec.alpha,
        );
      const from = Math.max(t0, layer.skipOffset);
      if (from < t0 + n) {
        const at = skip + (from - layer.skipOffset) * 4;
        f.addRows!(at, plan.skipStride, plan.g + (from - t0) * 4, TILE, width, t0 + n - from);
      }
      if (next !== null) {
        correlate(f, plan, plan.r, TILE, plan.g, plan.tileOffsets, layer.residual, false, frames, 0);
        const h = p + (t0 + layer.span) * 4;
        f.sumRows!(pNext + t0 * 4, next.pStride, plan.r, TILE, h, layer.pStride, width, n);
      }
    }
  }

  /**
   * Adds d loss / d parameters for the last forward call into `grads` (the model's flat gradient array), given
   * dy [batch, channels, outLength].
   */
  backward(grads: Float32Array, dy: Float32Array): void {
    const { plan, scratch } = this.memory;
    const f = scratch.exports;
    const { batch, skipLength } = plan;
    const { channels, width } = this.spec;
    const heap = scratch.heap;
    for (let k = 0; k < plan.convs.length; k++) {
      const { w } = plan.convs[k]!;
      heap.fill(0, w.totals >> 2, (w.totals >> 2) + 2 * w.rows * even(w.pairs));
      heap.fill(0, w.biasTotals >> 2, (w.biasTotals >> 2) + 2 * w.rows);
    }
    for (let b = 0; b < batch; b++) {
      for (let c = 0; c < channels; c++) {
        const from = (b * channels + c) * skipLength;
        stage(heap, plan.y + c * plan.yStride * 4, dy, from, skipLength);
      }
      // The forward pass left the head's output past skipLength there: the products below need zeros.
      f.zeroRows!(plan.y, plan.yStride, channels, skipLength, plan.yStride - skipLength);
      const skip = plan.skip + b * plan.skipItem * 4;
      const frames4 = up(skipLength, 4);
      dots(f, plan, plan.head, plan.y, plan.yStride, skip, plan.headOffsets, frames4);
      f.convRowSums!(plan.head.biasTotals, plan.y, plan.yStride, channels, frames4);
      correlate(
        f,
        plan,
        plan.dSkip,
        plan.skipStride,
        plan.y,
        plan.yOffsets,
        plan.head,
        true,
        up(skipLength, 8),
        0,
      );
      let dNext = -1;
      for (let i = plan.layers.length - 1; i >= 0; i--) dNext = this.layerBackward(f, plan, i, b, dNext);
      const first = plan.layers[0]!;
      const d0 = plan.d[dNext]!;
      const xb = plan.x + b * plan.xItem * 4;
      dots(f, plan, plan.input, d0, plan.dStride, xb, plan.inputOffsets, up(first.inLength, 4));
      f.convRowSums!(plan.input.biasTotals, d0, plan.dStride, width, up(first.inLength, 4));
    }
    // float64 totals into the model's gradients (staged in and out), rounded once.
    stage(heap, plan.grads, grads, 0, this.tensors.count);
    for (let k = 0; k < plan.convs.length; k++) {
      const { w, tensors } = plan.convs[k]!;
      f.convAddTotals!(plan.grads + tensors.weight * 4, w.totals, w.rows, w.pairs, even(w.pairs));
      f.convAddTotals!(plan.grads + tensors.bias * 4, w.biasTotals, 1, w.rows, w.rows);
    }
    unstage(heap, plan.grads, grads, 0, this.tensors.count);
  }

  /** Layer i's backward pass for item b; dNext: which D buffer holds dh_{i+1} (-1: none). Returns dh_i's. */
  private layerBackward(f: Exports, plan: Plan, i: number, b: number, dNext: number): number {
    const { width, gated } = this.spec;
    const layer = plan.layers[i]!;
    const p = layer.p + b * layer.pItem * 4;
    const s = layer.s + b * layer.sItem * 4;
    const dh = dNext < 0 ? 0 : plan.d[dNext]!;
    const code = WASM_ACTIVATION_CODES[this.spec.activation];
    for (let t0 = 0; t0 < layer.outLength; t0 += TILE) {
      const n = Math.min(TILE, layer.outLength - t0);
      const frames = up(n, 8);
      // dg = residual^T dh_{i+1} + dskip (cropped), then dz through the gate (which gives g again, in r).
      if (dh !== 0)
        correlate(f, plan, plan.g, TILE, dh + t0 * 4, plan.dOffsets, layer.residual, true, frames, 0);
      else f.zeroRows!(plan.g, TILE, width, 0, frames);
      const from = Math.max(t0, layer.skipOffset);
      if (from < t0 + n) {
        const at = plan.dSkip + (from - layer.skipOffset) * 4;
        f.addRows!(plan.g + (from - t0) * 4, TILE, at, plan.skipStride, width, t0 + n - from);
      }
      const dz = layer.dz + (layer.span + t0) * 4;
      const saved = s + t0 * 4;
      if (gated)
        f.gateRowsBackward!(
          dz,
          layer.dzStride,
          plan.r,
          TILE,
          plan.g,
          TILE,
          saved,
          layer.sStride,
          width,
          n,
          frames,
        );
      else {
        f.activationRowsBackward!(
          dz,
          layer.dzStride,
          plan.g,
          TILE,
          saved,
          layer.sStride,
          width,
          n,
          code,
          this.spec.alpha,
        );
        const a = saved + width * layer.sStride * 4;
        f.convCopyRows!(plan.r, TILE, 0, a, layer.sStride, n, width, frames - n);
      }
      // The residual's gradients from dh_{i+1} and g.
      if (dh !== 0) {
        dots(f, plan, layer.residual, dh + t0 * 4, plan.dStride, plan.r, plan.tileOffsets, up(n, 4));
        f.convRowSums!(layer.residual.biasTotals, dh + t0 * 4, plan.dStride, width, up(n, 4));
      }
    }
    const dz = layer.dz + layer.span * 4;
    const outFrames4 = up(layer.outLength, 4);
    dots(f, plan, layer.conv, dz, layer.dzStride, p, layer.convOffsets, outFrames4);
    f.convRowSums!(layer.conv.biasTotals, dz, layer.dzStride, layer.conv.rows, outFrames4);
    // dh_i = dh_{i+1} (shifted by span - lead: the residual path) + conv^T dz, in the other D buffer.
    const into = dNext === 0 ? 1 : 0;
    const dCur = plan.d[into]!;
    const shift = layer.span - layer.lead;
    const frames = up(layer.inLength, 8);
    if (dh === 0) f.zeroRows!(dCur, plan.dStride, width, 0, frames);
    else
      f.convCopyRows!(
        dCur,
        plan.dStride,
        shift,
        dh,
        plan.dStride,
        layer.outLength,
        width,
        frames - layer.inLength,
      );
    correlate(
      f,
      plan,
      dCur,
      plan.dStride,
      layer.dz + layer.lead * 4,
      layer.adjointOffsets,
      layer.conv,
      true,
      frames,
      1,
    );
    f.zeroRows!(dCur, plan.dStride, width, layer.inLength, frames - layer.inLength);
    return into;
  }

  /** Splats the parameters for both passes (they change every step). */
  private splat(plan: Plan, f: Exports): void {
    for (let k = 0; k < plan.convs.length; k++) splatConv(f, plan, plan.convs[k]!.w, plan.convs[k]!.tensors);
  }

  private layout(scratch: WasmScratch, batch: number, inLength: number): Plan {
    const { channels, width, kernelSize: K, dilations, gated, causal } = this.spec;
    const zw = gated ? 2 * width : width;
    const reserve = (floats: number, zero = false): number => scratch.reserve(floats, zero);
    const lengths = [inLength];
    for (const d of dilations) lengths.push(causal ? inLength : lengths[lengths.length - 1]! - (K - 1) * d);
    const skipLength = lengths[lengths.length - 1]!;
    const conv = (rows: number, inputs: number, taps: number): ConvWeights => {
      const pairs = inputs * taps;
      return {
        rows,
        inputs,
        taps,
        pairs,
        forward: reserve(Math.ceil(rows / 4) * (1 + pairs) * 16),
        adjoint: reserve(Math.ceil(inputs / 4) * (1 + rows * taps) * 16),
        totals: reserve(2 * rows * even(pairs), true),
        biasTotals: reserve(2 * rows, true),
      };
    };
    const maxLength = Math.max(...lengths);
    const dStride = rowStride(up(maxLength, 8) + 8);
    const offsets = (na: number, aFloats: number, nb: number, bFloats: number): number => {
      const at = reserve(na * nb);
      scratch.exports.convOffsets!(at, na, aFloats * 4, nb, bFloats * 4);
      return at;
    };
    const layers: LayerPlan[] = dilations.map((dilation, i) => {
      const span = (K - 1) * dilation;
      const inL = lengths[i]!;
      const outL = lengths[i + 1]!;
      const pStride = rowStride(up(outL, 8) + span + 8);
      const sStride = rowStride(up(outL, 8));
      const dzStride = rowStride(up(outL + 2 * span, 8) + 8);
      const pItem = width * pStride;
      const sItem = 2 * width * sStride;
      return {
        dilation,
        span,
        lead: causal ? span : 0,
        inLength: inL,
        outLength: outL,
        skipOffset: outL - skipLength,
        pStride,
        p: reserve(batch * pItem, true),
        pItem,
        sStride,
        s: reserve(batch * sItem),
        sItem,
        dzStride,
        dz: reserve(zw * dzStride, true),
        convOffsets: offsets(width, pStride, K, dilation),
        adjointOffsets: offsets(zw, dzStride, K, dilation),
        conv: conv(zw, width, K),
        residual: conv(width, width, 1),
      };
    });
    const xStride = rowStride(up(inLength, 8) + 8);
    const skipStride = rowStride(up(skipLength, 8) + 8);
    const yStride = rowStride(up(skipLength, 8) + 8);
    const plan: Plan = {
      batch,
      inLength,
      skipLength,
      layers,
      xStride,
      x: reserve(batch * channels * xStride),
      xItem: channels * xStride,
      xStage: reserve(channels * inLength),
      skipStride,
      skip: reserve(batch * width * skipStride),
      skipItem: width * skipStride,
      yStride,
      y: reserve(channels * yStride, true),
      dStride,
      d: [reserve(width * dStride, true), reserve(width * dStride, true)],
      dSkip: reserve(width * skipStride, true),
      z: reserve(zw * TILE),
      g: reserve(width * TILE),
      r: reserve(width * TILE),
      dummy: reserve(up(maxLength, 8) + 8),
      zeros: reserve(up(maxLength, 8) + 8, true),
      dummy64: reserve(4),
      inputOffsets: offsets(channels, xStride, 1, 1),
      headOffsets: offsets(width, skipStride, 1, 1),
      tileOffsets: offsets(width, TILE, 1, 1),
      dOffsets: offsets(width, dStride, 1, 1),
      yOffsets: offsets(channels, yStride, 1, 1),
      input: conv(width, channels, 1),
      head: conv(channels, width, 1),
      convs: [],
      values: reserve(this.tensors.count),
      grads: reserve(this.tensors.count),
    };
    const t = this.tensors;
    plan.convs.push({ w: plan.input, tensors: t.input }, { w: plan.head, tensors: t.head });
    layers.forEach((layer, i) => {
      plan.convs.push({ w: layer.conv, tensors: t.convs[i]! });
      if (i + 1 < layers.length) plan.convs.push({ w: layer.residual, tensors: t.residuals[i]! });
    });
    return plan;
  }
}

type Exports = WasmExports;

const even = (n: number): number => n + (n & 1);

/**
 * out (+)= the correlation of w's splatted weights with the rows at `inp` (pair byte offsets), over `frames`:
 * the conv itself (out [w.rows], bias included) or, `adjoint`, its adjoint (out [w.inputs], W^T with the taps
 * flipped, no bias).
 */
function correlate(
  f: Exports,
  plan: Plan,
  out: number,
  outStride: number,
  inp: number,
  offsets: number,
  w: ConvWeights,
  adjoint: boolean,
  frames: number,
  accumulate: number,
): void {
  const splat = adjoint ? w.adjoint : w.forward;
  const rows = adjoint ? w.inputs : w.rows;
  const pairs = adjoint ? w.rows * w.taps : w.pairs;
  f.convCorrelate!(out, outStride, inp, 0, 0, offsets, splat, 1, rows, pairs, frames, plan.dummy, accumulate);
}

/** w's float64 weight-gradient totals += dy [w.rows][frames] x the input pairs at `inp` (frames a multiple of 4). */
function dots(
  f: Exports,
  plan: Plan,
  w: ConvWeights,
  dy: number,
  dyStride: number,
  inp: number,
  offsets: number,
  frames: number,
): void {
  f.convWeightDots!(
    w.totals,
    dy,
    dyStride,
    inp,
    0,
    0,
    offsets,
    1,
    w.rows,
    w.pairs,
    frames,
    DOT_TILE,
    plan.zeros,
    plan.dummy64,
  );
}

/** Splats a conv's weights [rows][inputs][taps] and bias from the staged parameters, both ways. */
function splatConv(f: Exports, plan: Plan, w: ConvWeights, tensors: ConvTensors): void {
  const { rows, inputs, taps, pairs } = w;
  const weight = plan.values + tensors.weight * 4;
  f.convSplat!(
    w.forward,
    weight,
    plan.values + tensors.bias * 4,
    1,
    rows,
    rows * pairs,
    pairs,
    inputs,
    taps,
    taps,
    0,
    1,
  );
  f.convSplat!(w.adjoint, weight, 0, 1, inputs, rows * pairs, taps, rows, pairs, taps, taps - 1, -1);
}
