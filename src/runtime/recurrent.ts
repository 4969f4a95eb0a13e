import { copySamples, gruSteps, lstmSteps } from "./kernels.ts";
import {
  createWasmKernels,
  paddedHidden,
  recurrentWeights,
  resolveKernelBackend,
  type WasmKernels,
} from "./wasm/kernels.ts";

const EMPTY = new Float32Array(0);

/** An LSTM/GRU model's weights, read once from the model and shared by every stream that runs it. */
export interface RecurrentPlan {
  cell: "lstm" | "gru";
  /** Audio channels in and out (the model's input size). */
  channels: number;
  hidden: number;
  /** Per layer: interleaveRecurrent's layout. */
  layers: Float64Array[];
  /** [channels, hidden] */
  headWeight: Float32Array;
  /** [channels] */
  headBias: Float32Array;
  inputSkip: boolean;
}

/**
 * One stream of a recurrent model: per layer a time-major block of hidden states [maxBlock + 1][stride] whose
 * row 0 holds the state carried in from the previous block (and a cell state for an LSTM); the layers run one
 * after the other over the whole block, then the head (plus the input skip).
 * With the wasm kernels (chosen at prepare by resolveKernelBackend()) every array lives in one arena, a layer is
 * one recurrentSteps call per block (float32 sums, fast activations: max abs error ~1e-7) and stride is hidden
 * rounded up to 4; with the JS twins lstmSteps / gruSteps (float64 sums, exact activations), stride = hidden.
 */
export class RecurrentCore {
  readonly channels: number;
  private readonly plan: RecurrentPlan;
  private x: Float32Array = EMPTY;
  private readonly h: Float32Array[] = [];
  private readonly c: Float32Array[] = [];
  private stride = 0;
  /** The wasm kernels, each layer's weights in their layout (recurrentWeights) and the gate scratch, or null. */
  private wasm: WasmKernels | null = null;
  private readonly w: Float32Array[] = [];
  private gates: Float32Array = EMPTY;
  /** The head on the wasm kernels: weights [channels][hp] (zero-padded), bias, output block [channels][maxBlock]. */
  private headW: Float32Array = EMPTY;
  private headB: Float32Array = EMPTY;
  private y: Float32Array = EMPTY;
  private maxBlock = 0;

  constructor(plan: RecurrentPlan) {
    this.plan = plan;
    this.channels = plan.channels;
  }

  /** Which kernels run the cells (chosen at prepare). */
  get backend(): "wasm" | "js" {
    return this.wasm === null ? "js" : "wasm";
  }

  prepare(maxBlock: number): void {
    const { channels, hidden, layers, cell } = this.plan;
    const useWasm = resolveKernelBackend() === "wasm";
    const stride = useWasm ? paddedHidden(hidden) : hidden;
    this.stride = stride;
    this.maxBlock = maxBlock;
    this.h.length = 0;
    this.c.length = 0;
    this.w.length = 0;
    if (!useWasm) {
      this.wasm = null;
      this.x = new Float32Array(maxBlock * channels);
      for (let l = 0; l < layers.length; l++) {
        this.h.push(new Float32Array((maxBlock + 1) * hidden));
        this.c.push(new Float32Array(cell === "lstm" ? hidden : 0));
      }
      return;
    }
    const packed = layers.map((w, l) => wasmWeights(cell, w, l === 0 ? channels : hidden, hidden));
    let floats = 2 * maxBlock * channels + 4 * stride + channels * (stride + 1) + 16;
    for (const w of packed) floats += (maxBlock + 2) * stride + w.length + 12;
    const wasm = createWasmKernels({ arenaBytes: 4 * floats });
    this.wasm = wasm;
    this.x = wasm.alloc(maxBlock * channels);
    this.gates = wasm.alloc(4 * stride);
    this.y = wasm.alloc(channels * maxBlock);
    this.headB = wasm.alloc(channels);
    this.headB.set(this.plan.headBias);
    this.headW = wasm.alloc(channels * stride);
    for (let o = 0; o < channels; o++) {
      for (let k = 0; k < hidden; k++) this.headW[o * stride + k] = this.plan.headWeight[o * hidden + k]!;
    }
    for (const w of packed) {
      this.h.push(wasm.alloc((maxBlock + 1) * stride));
      this.c.push(wasm.alloc(stride));
      const copy = wasm.alloc(w.length);
      copy.set(w);
      this.w.push(copy);
    }
  }

  /** Zero state. */
  restore(): void {
    for (let l = 0; l < this.h.length; l++) {
      this.h[l]!.fill(0, 0, this.stride);
      this.c[l]!.fill(0);
    }
  }

  ingest(input: readonly Float32Array[], first: number, offset: number, frames: number): void {
    const channels = this.channels;
    const x = this.x;
    for (let ch = 0; ch < channels; ch++) {
      const row = input[first + ch]!;
      for (let t = 0; t < frames; t++) x[t * channels + ch] = row[offset + t]!;
    }
  }

  render(output: Float32Array[], first: number, offset: number, frames: number): void {
    const { cell, channels, hidden, layers, headWeight, headBias, inputSkip } = this.plan;
    const { wasm, stride } = this;
    let input = this.x;
    let inputAt = 0;
    let inputs = channels;
    for (let l = 0; l < layers.length; l++) {
      const h = this.h[l]!;
      if (wasm !== null) {
        wasm.recurrentSteps(
          cell,
          h,
          this.c[l]!,
          input,
          inputAt,
          l === 0 ? channels : stride,
          this.w[l]!,
          this.gates,
          inputs,
          hidden,
          frames,
        );
      } else if (cell === "lstm")
        lstmSteps(h, this.c[l]!, input, inputAt, layers[l]!, inputs, hidden, frames);
      else gruSteps(h, input, inputAt, layers[l]!, inputs, hidden, frames);
      input = h;
      inputAt = stride;
      inputs = hidden;
    }
    // Head: out[o, t] = bias[o] + sum_k w[o, k] h[t + 1][k] (+ x[t][o]).
    const last = input;
    const x = this.x;
    if (wasm !== null) {
      const { y, maxBlock } = this;
      wasm.recurrentHead(y, 0, maxBlock, last, this.headW, this.headB, hidden, channels, frames);
      for (let o = 0; o < channels; o++) {
        const out = output[first + o]!;
        const row = o * maxBlock;
        if (inputSkip) for (let t = 0; t < frames; t++) out[offset + t] = y[row + t]! + x[t * channels + o]!;
        else for (let t = 0; t < frames; t++) out[offset + t] = y[row + t]!;
      }
    }
    for (let o = 0; wasm === null && o < channels; o++) {
      const out = output[first + o]!;
      const wRow = o * hidden;
      const b = headBias[o]!;
      for (let t = 0; t < frames; t++) {
        const hRow = (t + 1) * stride;
        let acc = b;
        for (let k = 0; k < hidden; k++) acc += headWeight[wRow + k]! * last[hRow + k]!;
        out[offset + t] = inputSkip ? Math.fround(acc) + x[t * channels + o]! : acc;
      }
    }
    // The state after the block becomes row 0 for the next one.
    for (let l = 0; l < layers.length; l++) copySamples(this.h[l]!, 0, this.h[l]!, frames * stride, stride);
  }
}

/**
 * A layer's interleaveRecurrent weights (w [4 hidden] biases, then wIh [m][p][G] and wHh [m][k][G], G = 4 LSTM
 * gates or 3 GRU gates r, z, n) in recurrentWeights' layout: slots LSTM i, f, g, o; GRU r, z, hn (hidden part, with
 * b_hn), in (input part, with b_in), which are interleaveRecurrent's four bias slots too.
 */
function wasmWeights(cell: "lstm" | "gru", w: Float64Array, inputs: number, hidden: number): Float32Array {
  const gates = cell === "lstm" ? 4 : 3;
  const wiAt = 4 * hidden;
  const whAt = wiAt + gates * hidden * inputs;
  return recurrentWeights(inputs, hidden, (q, m, k) => {
    if (k < 0) return w[4 * m + q]!;
    if (k < inputs) {
      // GRU: n's input part is slot 3 (gate 2), slot 2 has none.
      if (cell === "gru" && q === 2) return 0;
      const g = cell === "gru" && q === 3 ? 2 : q;
      return w[wiAt + (m * inputs + k) * gates + g]!;
    }
    if (cell === "gru" && q === 3) return 0;
    return w[whAt + (m * hidden + (k - inputs)) * gates + q]!;
  });
}
