import type { ActivationKind } from "../types.ts";
import { stage, unstage } from "./activations.ts";
import { trainingWasmBuild, WASM_ACTIVATION_CODES, type WasmExports } from "./module.ts";
import { WasmScratch } from "./scratch.ts";

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

interface Plan {
  batch: number;
  inLength: number;
  outLength: number;
  rows: number;
  /** The staged input: one row per item, xStride floats apart (zero padding after each). */
  x: number;
  xStride: number;
  /** Quads of rows of the input (one window per item) or of a hidden layer's activations. */
  quads: number;
  layers: LayerPlan[];
  dummy: number;
  /** The model's gradients, staged in for the sums of a backward pass. */
  grads: number;
}

export class WasmMlp {
  private readonly spec: MlpSpec;
  private readonly tensors: MlpTensors;
  private scratch: WasmScratch | null = null;
  private plan: Plan | null = null;
  private capacity = 0;

  constructor(spec: MlpSpec, tensors: MlpTensors) {
    this.spec = spec;
    this.tensors = tensors;
  }

  /**
   * y [batch, outLength] = the MLP of the windows of x [batch, inLength] with `values` (the model's flat
   * parameters). Returns the floats of wasm memory this call newly reserved (0 once the shape has been seen).
   */
  forward(y: Float32Array, x: Float32Array, values: Float32Array, batch: number, inLength: number): number {
    const grown = this.prepare(batch, inLength);
    const plan = this.plan!;
    const f = this.scratch!.exports;
    const heap = this.scratch!.heap;
    const { window } = this.spec;
    const { outLength, rows } = plan;
    if (plan.xStride === inLength) stage(heap, plan.x, x, 0, batch * inLength);
    else
      for (let b = 0; b < batch; b++) stage(heap, plan.x + b * plan.xStride * 4, x, b * inLength, inLength);
    this.stageWeights(values, f);
    const windows = outLength > 1;
    if (!windows) f.denseQuads!(plan.quads, plan.x, rows, window);
    const code = WASM_ACTIVATION_CODES[this.spec.activation];
    for (let j = 0; j < plan.layers.length; j++) {
      const layer = plan.layers[j]!;
      if (j === 0 && windows) {
        for (let b = 0; b < batch; b++) {
          const z = layer.z + b * outLength * layer.cols * 4;
          const xb = plan.x + b * plan.xStride * 4;
          f.denseForwardWindows!(z, xb, layer.wT, layer.bias, outLength, window, layer.cols, plan.dummy);
        }
      } else {
        if (j > 0) f.denseQuads!(plan.quads, plan.layers[j - 1]!.a, rows, layer.pairs);
        f.denseForwardF32!(
          layer.z,
          plan.quads,
          layer.wT,
          layer.bias,
          rows,
          layer.pairs,
          layer.cols,
          plan.dummy,
        );
      }
      if (layer.a !== 0) f.activationForwardF32!(layer.a, layer.z, rows * layer.cols, code, this.spec.alpha);
    }
    // The output is column 0 of the last layer's rows (gathered in the quads buffer, free again).
    const last = plan.layers[plan.layers.length - 1]!;
    f.convCopyRows!(plan.quads, 1, 0, last.z, last.cols, 1, rows, 0);
    unstage(this.scratch!.heap, plan.quads, y, 0, rows);
    return grown;
  }

  /** Adds d loss / d parameters for the last forward call into `grads`, given dy [batch, outLength]. */
  backward(grads: Float32Array, dy: Float32Array): void {
    const plan = this.plan!;
    const f = this.scratch!.exports;
    const heap = this.scratch!.heap;
    const { rows, outLength } = plan;
    const windows = outLength > 1;
    const code = WASM_ACTIVATION_CODES[this.spec.activation];
    // d loss / d z of the last layer: dy in column 0, zeros in the padding columns.
    const last = plan.layers[plan.layers.length - 1]!;
    stage(heap, plan.quads, dy, 0, rows);
    f.convCopyRows!(last.dz, last.cols, 0, plan.quads, 1, 1, rows, last.cols - 1);
    for (let j = plan.layers.length - 1; j >= 0; j--) {
      const layer = plan.layers[j]!;
      heap.fill(0, layer.dw >> 2, (layer.dw >> 2) + layer.cols * layer.dwCols);
      heap.fill(0, layer.biasSums >> 2, (layer.biasSums >> 2) + 2 * layer.cols);
      if (j === 0 && windows) {
        for (let b = 0; b < plan.batch; b++) {
          const dz = layer.dz + b * outLength * layer.cols * 4;
          const xb = plan.x + b * plan.xStride * 4;
          f.denseWeightGradF32!(layer.dw, dz, xb, 1, outLength, layer.cols, layer.dwCols, CHUNK, plan.dummy);
        }
      } else {
        const input = j === 0 ? plan.x : plan.layers[j - 1]!.a;
        const stride = j === 0 ? this.spec.window : layer.pairs;
        f.denseWeightGradF32!(
          layer.dw,
          layer.dz,
          input,
          stride,
          rows,
          layer.cols,
          layer.dwCols,
          CHUNK,
          plan.dummy,
        );
      }
      f.denseColumnSums!(layer.biasSums, layer.dz, rows, layer.cols);
      if (j > 0) {
        // d loss / d a of the layer below = dz w, then through its activation.
        const below = plan.layers[j - 1]!;
        heap.fill(0, below.dz >> 2, (below.dz >> 2) + rows * below.cols);
        f.denseQuads!(plan.quads, layer.dz, rows, layer.cols);
        f.denseInputGradF32!(below.dz, plan.quads, layer.w, rows, layer.cols, layer.pairs, plan.dummy);
        // dz = d loss / d a (now in dz) times f'(z): activationBackwardF32 adds into a zeroed buffer, so the
        // product goes through the quads buffer (free again) as scratch.
        const count = rows * below.cols;
        heap.copyWithin(plan.quads >> 2, below.dz >> 2, (below.dz >> 2) + count);
        heap.fill(0, below.dz >> 2, (below.dz >> 2) + count);
        f.activationBackwardF32!(below.dz, plan.quads, below.z, below.a, count, code, this.spec.alpha);
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
    const heap = this.scratch!.heap;
    const plan = this.plan!;
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

  private prepare(batch: number, inLength: number): number {
    const build = trainingWasmBuild();
    if (this.scratch === null || this.scratch.build !== build) {
      this.scratch = new WasmScratch(1 << 20, build);
      this.plan = null;
    }
    if (this.plan !== null && this.plan.inLength === inLength && batch <= this.capacity) {
      this.plan.batch = batch;
      this.plan.rows = batch * this.plan.outLength;
      return 0;
    }
    const scratch = this.scratch;
    scratch.reset();
    const before = scratch.mark();
    this.plan = this.layout(scratch, batch, inLength);
    this.capacity = batch;
    return (scratch.mark() - before) / 4;
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
    const quadFloats = Math.max(up(rows, 4) * window, ...layers.map((l) => up(rows, 4) * l.cols));
    return {
      batch,
      inLength,
      outLength,
      rows,
      x: reserve(batch * xStride + 8, true),
      xStride,
      quads: reserve(Math.max(quadFloats, rows * widest)),
      layers,
      dummy: reserve(widest),
      grads: reserve(this.tensors.count),
    };
  }
}
