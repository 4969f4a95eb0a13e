import type { ActivationKind } from "../types.ts";
import { stage, unstage } from "./activations.ts";
import { WASM_ACTIVATION_CODES, type WasmExports } from "./module.ts";
import { PlannedScratch, type WasmScratch } from "./scratch.ts";

/*
 * The study's MLP (src/nn/models/mlp.ts: each output sample a fully connected net of the `window` input
 * samples ending at it) trained as one fused wasm kernel: the input, every layer's pre-activation and
 * activation, and their gradients stay in this kernel's own wasm memory, so a step copies only the input,
 * the output, its gradient and the parameters. Twin: the same model run layer by layer with the JS kernels
 * (test/nn/models/mlp-wasm.test.ts).
 *
 * Rows n = (item b, frame t), batch x outLength of them. Hidden widths are padded to multiples of 8 (the
 * dense kernels' column blocks, assembly/train-dense.ts) with zero weights, so padded columns hold f(0) and
 * meet only zero weights, and their gradients are zero. The first layer reads its windows in place, never
 * unfolded: with one window per item (outLength 1) rows are the items' input rows, repacked into quads of
 * rows as the dense kernels do; with many (a sliding window) row n + 1 starts one sample after row n, which is
 * already the layout the kernels read (denseForwardWindows, and a row stride of one float for the weight
 * gradient), so each item runs on its own input row.
 */

/** Rows per chunk of the weight gradient: a 128 x 256 block of x (128 KiB) stays in L2 (./dense.ts). */
const CHUNK = 128;

/**
 * Rows per segment: forward and backward run every layer on one segment at a time, so its windows (256 KiB
 * for 256-sample windows) and activations stay in L2 between the layers.
 */
const SEGMENT = 256;

const up = (n: number, m: number): number => Math.ceil(n / m) * m;

export interface MlpSpec {
  window: number;
  /** Hidden widths, then the output (1). */
  widths: readonly number[];
  activation: ActivationKind;
  /** leaky ReLU's slope. */
  alpha: number;
}

/** Offsets in the model's flat parameter array of each dense layer's weight [out, in] and bias [out]. */
export interface MlpTensors {
  count: number;
  layers: { weight: number; bias: number }[];
}

interface LayerPlan {
  inputs: number;
  outputs: number;
  /** Columns of this layer's rows (outputs rounded up to 8) and the pairs its forward sums over. */
  cols: number;
  pairs: number;
  /** w^T [pairs][cols] (forward), w [cols][pairs] (input gradient), bias [cols]: zero-padded copies. */
  wT: number;
  w: number;
  bias: number;
  /** [rows][cols]: pre-activation z, activation a (the last layer: none), and d loss / d z. */
  z: number;
  a: number;
  dz: number;
  /** d loss / d w [cols][up8(pairs)] (float32, as the dense kernels accumulate) and float64 bias sums. */
  dw: number;
  dwCols: number;
  biasSums: number;
}

/** Rows [row, row + count) of a batch, whose first window starts at byte address x. */
interface Segment {
  row: number;
  count: number;
  x: number;
}

interface Plan {
  batch: number;
  inLength: number;
  outLength: number;
  rows: number;
  /** The staged input: one row per item, xStride floats apart (zero padding after each). */
  x: number;
  xStride: number;
  segments: Segment[];
  /** Per segment: quads of rows (of windows, activations or dz) and the gradient of an activation. */
  quads: number;
  tmp: number;
  /** The output, then its gradient: [rows]. */
  dy: number;
  layers: LayerPlan[];
  dummy: number;
  /** The model's gradients, staged in for the sums of a backward pass. */
  grads: number;
}

export class WasmMlp {
  private readonly spec: MlpSpec;
  private readonly tensors: MlpTensors;
  private readonly memory = new PlannedScratch<Plan>(
    (scratch, batch, inLength) => this.layout(scratch, batch, inLength),
    (plan, batch) => {
      if (batch === plan.batch) return;
      plan.batch = batch;
      plan.rows = batch * plan.outLength;
      segment(plan, this.spec.window);
    },
  );

  constructor(spec: MlpSpec, tensors: MlpTensors) {
    this.spec = spec;
    this.tensors = tensors;
  }

  /**
   * y [batch, outLength] = the MLP of the windows of x [batch, inLength] with `values` (the model's flat
   * parameters). Returns the floats of wasm memory this call newly reserved (0 once the shape has been seen).
   */
  forward(y: Float32Array, x: Float32Array, values: Float32Array, batch: number, inLength: number): number {
    const grown = this.memory.prepare(batch, inLength);
    const { plan, scratch } = this.memory;
    const f = scratch.exports;
    const heap = scratch.heap;
    if (plan.xStride === inLength) stage(heap, plan.x, x, 0, batch * inLength);
    else
      for (let b = 0; b < batch; b++) stage(heap, plan.x + b * plan.xStride * 4, x, b * inLength, inLength);
    this.stageWeights(values, f);
    const code = WASM_ACTIVATION_CODES[this.spec.activation];
    for (let k = 0; k < plan.segments.length; k++) {
      const { row, count, x: windows } = plan.segments[k]!;
      for (let j = 0; j < plan.layers.length; j++) {
        const layer = plan.layers[j]!;
        const z = layer.z + row * layer.cols * 4;
        if (j === 0 && plan.outLength > 1) {
          f.denseForwardWindows!(
            z,
            windows,
            layer.wT,
            layer.bias,
            count,
            layer.pairs,
            layer.cols,
            plan.dummy,
          );
        } else {
          const input = j === 0 ? windows : plan.layers[j - 1]!.a + row * layer.pairs * 4;
          f.denseQuads!(plan.quads, input, count, layer.pairs);
          f.denseForwardF32!(z, plan.quads, layer.wT, layer.bias, count, layer.pairs, layer.cols, plan.dummy);
        }
        if (layer.a !== 0) {
          const a = layer.a + row * layer.cols * 4;
          f.activationForwardF32!(a, z, count * layer.cols, code, this.spec.alpha);
        }
      }
    }
    // The output is column 0 of the last layer's rows (gathered in the dy buffer, free until backward).
    const last = plan.layers[plan.layers.length - 1]!;
    f.convCopyRows!(plan.dy, 1, 0, last.z, last.cols, 1, plan.rows, 0);
    unstage(heap, plan.dy, y, 0, plan.rows);
    return grown;
  }

  /** Adds d loss / d parameters for the last forward call into `grads`, given dy [batch, outLength]. */
  backward(grads: Float32Array, dy: Float32Array): void {
    const { plan, scratch } = this.memory;
    const f = scratch.exports;
    const heap = scratch.heap;
    const code = WASM_ACTIVATION_CODES[this.spec.activation];
    for (let j = 0; j < plan.layers.length; j++) {
      const layer = plan.layers[j]!;
      heap.fill(0, layer.dw >> 2, (layer.dw >> 2) + layer.cols * layer.dwCols);
      heap.fill(0, layer.biasSums >> 2, (layer.biasSums >> 2) + 2 * layer.cols);
    }
    stage(heap, plan.dy, dy, 0, plan.rows);
    const last = plan.layers[plan.layers.length - 1]!;
    for (let k = 0; k < plan.segments.length; k++) {
      const { row, count, x: windows } = plan.segments[k]!;
      // d loss / d z of the last layer: dy in column 0, zeros in the padding columns.
      f.convCopyRows!(
        last.dz + row * last.cols * 4,
        last.cols,
        0,
        plan.dy + row * 4,
        1,
        1,
        count,
        last.cols - 1,
      );
      for (let j = plan.layers.length - 1; j >= 0; j--) {
        const layer = plan.layers[j]!;
        const dz = layer.dz + row * layer.cols * 4;
        // The weight gradient over the layer's input rows: the windows (one float apart when they slide).
        const input = j === 0 ? windows : plan.layers[j - 1]!.a + row * layer.pairs * 4;
        const stride = j > 0 ? layer.pairs : plan.outLength > 1 ? 1 : this.spec.window;
        f.denseWeightGradF32!(
          layer.dw,
          dz,
          input,
          stride,
          count,
          layer.cols,
          layer.dwCols,
          CHUNK,
          plan.dummy,
        );
        f.denseColumnSums!(layer.biasSums, dz, count, layer.cols);
        if (j === 0) continue;
        // d loss / d a of the layer below = dz w (into tmp), then dz below = that times f'(z).
        const below = plan.layers[j - 1]!;
        const n = count * below.cols;
        heap.fill(0, plan.tmp >> 2, (plan.tmp >> 2) + n);
        f.denseQuads!(plan.quads, dz, count, layer.cols);
        f.denseInputGradF32!(plan.tmp, plan.quads, layer.w, count, layer.cols, layer.pairs, plan.dummy);
        const dzBelow = below.dz + row * below.cols * 4;
        heap.fill(0, dzBelow >> 2, (dzBelow >> 2) + n);
        const at = row * below.cols * 4;
        f.activationBackwardF32!(dzBelow, plan.tmp, below.z + at, below.a + at, n, code, this.spec.alpha);
      }
    }
    // Into the model's gradients (staged in and out: the sums run in wasm).
    const count = this.tensors.count;
    stage(heap, plan.grads, grads, 0, count);
    for (let j = 0; j < plan.layers.length; j++) {
      const layer = plan.layers[j]!;
      const { weight, bias } = this.tensors.layers[j]!;
      f.addRows!(plan.grads + weight * 4, layer.inputs, layer.dw, layer.dwCols, layer.outputs, layer.inputs);
      f.convAddTotals!(plan.grads + bias * 4, layer.biasSums, 1, layer.outputs, layer.outputs);
    }
    unstage(heap, plan.grads, grads, 0, count);
  }

  /** The padded weight copies of every layer from the model's parameters (they change every step). */
  private stageWeights(values: Float32Array, f: WasmExports): void {
    const { plan, scratch } = this.memory;
    const heap = scratch.heap;
    for (let j = 0; j < plan.layers.length; j++) {
      const layer = plan.layers[j]!;
      const { weight, bias } = this.tensors.layers[j]!;
      const at = layer.w >> 2;
      // w [cols][pairs]: row o = w[o, :inputs], zeros after and below.
      heap.fill(0, at, at + layer.cols * layer.pairs);
      for (let o = 0; o < layer.outputs; o++) {
        stage(heap, layer.w + o * layer.pairs * 4, values, weight + o * layer.inputs, layer.inputs);
      }
      heap.fill(0, layer.bias >> 2, (layer.bias >> 2) + layer.cols);
      stage(heap, layer.bias, values, bias, layer.outputs);
      // w^T [pairs][cols].
      f.denseTranspose!(layer.wT, layer.w, layer.cols, layer.pairs, layer.cols);
    }
  }

  private layout(scratch: WasmScratch, batch: number, inLength: number): Plan {
    const { window, widths } = this.spec;
    const outLength = inLength - window + 1;
    const rows = batch * outLength;
    const reserve = (floats: number, zero = false): number => scratch.reserve(floats, zero);
    let inputs = window;
    let pairs = window;
    let widest = up(window, 8);
    const layers: LayerPlan[] = widths.map((outputs, j) => {
      const cols = up(outputs, 8);
      const dwCols = up(pairs, 8);
      widest = Math.max(widest, cols, dwCols);
      const layer: LayerPlan = {
        inputs,
        outputs,
        cols,
        pairs,
        wT: reserve(pairs * cols),
        w: reserve(cols * pairs),
        bias: reserve(cols),
        z: reserve(rows * cols + 4 * cols),
        a: j + 1 < widths.length ? reserve(rows * cols + 4 * cols) : 0,
        dz: reserve(rows * cols + 4 * cols),
        dw: reserve(cols * dwCols),
        dwCols,
        biasSums: reserve(2 * cols),
      };
      inputs = outputs;
      pairs = cols;
      return layer;
    });
    // One window per item: rows packed one after the other; windows: each item's row padded (the kernels
    // read up to 8 floats past a window).
    const xStride = outLength > 1 ? inLength + 8 : inLength;
    const x = reserve(batch * xStride + 8, true);
    const plan: Plan = {
      batch,
      inLength,
      outLength,
      rows,
      x,
      xStride,
      segments: [],
      quads: reserve(SEGMENT * Math.max(window, widest)),
      tmp: reserve(SEGMENT * widest),
      dy: reserve(rows),
      layers,
      dummy: reserve(widest),
      grads: reserve(this.tensors.count),
    };
    segment(plan, window);
    return plan;
  }
}

/** The plan's segments for its batch: at most SEGMENT rows, within one item when windows slide. */
function segment(plan: Plan, window: number): void {
  const { batch, outLength, rows, x, xStride } = plan;
  plan.segments.length = 0;
  if (outLength > 1) {
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < outLength; t += SEGMENT) {
        const count = Math.min(SEGMENT, outLength - t);
        plan.segments.push({ row: b * outLength + t, count, x: x + (b * xStride + t) * 4 });
      }
    }
  } else {
    for (let row = 0; row < rows; row += SEGMENT)
      plan.segments.push({ row, count: Math.min(SEGMENT, rows - row), x: x + row * window * 4 });
  }
}
