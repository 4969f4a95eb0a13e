import { copySamples, gruSteps, lstmSteps } from "./kernels.ts";

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
 * One stream of a recurrent model: per layer a time-major block of hidden states [maxBlock + 1][hidden] whose
 * row 0 holds the state carried in from the previous block (and a cell state for an LSTM); the layers run one
 * after the other over the whole block, then the head (plus the input skip).
 */
export class RecurrentCore {
  readonly channels: number;
  private readonly plan: RecurrentPlan;
  private x: Float32Array = EMPTY;
  private readonly h: Float32Array[] = [];
  private readonly c: Float32Array[] = [];

  constructor(plan: RecurrentPlan) {
    this.plan = plan;
    this.channels = plan.channels;
  }

  prepare(maxBlock: number): void {
    const { channels, hidden, layers, cell } = this.plan;
    this.x = new Float32Array(maxBlock * channels);
    this.h.length = 0;
    this.c.length = 0;
    for (let l = 0; l < layers.length; l++) {
      this.h.push(new Float32Array((maxBlock + 1) * hidden));
      this.c.push(new Float32Array(cell === "lstm" ? hidden : 0));
    }
  }

  /** Zero state. */
  restore(): void {
    const hidden = this.plan.hidden;
    for (let l = 0; l < this.h.length; l++) {
      this.h[l]!.fill(0, 0, hidden);
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
    let input = this.x;
    let inputAt = 0;
    let inputs = channels;
    for (let l = 0; l < layers.length; l++) {
      const h = this.h[l]!;
      if (cell === "lstm") lstmSteps(h, this.c[l]!, input, inputAt, layers[l]!, inputs, hidden, frames);
      else gruSteps(h, input, inputAt, layers[l]!, inputs, hidden, frames);
      input = h;
      inputAt = hidden;
      inputs = hidden;
    }
    // Head: out[o, t] = bias[o] + sum_k w[o, k] h[t + 1][k] (+ x[t][o]).
    const last = input;
    const x = this.x;
    for (let o = 0; o < channels; o++) {
      const out = output[first + o]!;
      const wRow = o * hidden;
      const b = headBias[o]!;
      for (let t = 0; t < frames; t++) {
        const hRow = (t + 1) * hidden;
        let acc = b;
        for (let k = 0; k < hidden; k++) acc += headWeight[wRow + k]! * last[hRow + k]!;
        out[offset + t] = inputSkip ? Math.fround(acc) + x[t * channels + o]! : acc;
      }
    }
    // The state after the block becomes row 0 for the next one.
    for (let l = 0; l < layers.length; l++) copySamples(this.h[l]!, 0, this.h[l]!, frames * hidden, hidden);
  }
}
