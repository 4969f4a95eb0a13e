import {
  createWasmKernels,
  paddedHidden,
  recurrentWeights,
  resolveKernelBackend,
  type WasmKernels,
} from "../../../runtime/wasm/kernels.ts";
import { ConfigFields, invalid } from "../fields.ts";
import type { NamFile } from "../file.ts";
import { DspBase, type NamModel, readWeights } from "./dsp.ts";

interface LstmLayer {
  inputs: number;
  /** [4 * hidden, inputs + hidden] row-major: gate rows i, f, g, o (PyTorch's order) over [x; h]. */
  w: Float32Array;
  /** [4 * hidden]: PyTorch's bias_ih + bias_hh, summed by the exporter. */
  b: Float32Array;
  /** The state a fresh model starts from, stored in the file: [hidden] each. */
  h0: Float32Array;
  c0: Float32Array;
}

interface LstmWeights {
  inChannels: number;
  outChannels: number;
  hidden: number;
  layers: LstmLayer[];
  /** [outChannels, hidden] row-major. */
  headW: Float32Array;
  /** [outChannels] */
  headB: Float32Array;
}

/**
 * LSTM (NAM/lstm.cpp): stacked cells, then a linear head on the last layer's hidden state. Weights per layer:
 * W [4H, in + H], b [4H], h0 [H], c0 [H]; then head W [out, H], head b [out]. Per sample and layer (gates i, f,
 * g, o): c = s(f) c + s(i) tanh(g), h = s(o) tanh(c), with the next layer reading the new h.
 */
export function loadLstm(file: NamFile): NamModel {
  const fields = ConfigFields.of(file.config, `${file.source}: config`);
  const layerCount = fields.int("num_layers");
  const inputSize = fields.int("input_size");
  const hidden = fields.int("hidden_size");
  const inChannels = fields.int("in_channels", 1);
  const outChannels = fields.int("out_channels", 1);
  fields.finish();
  if (inputSize !== inChannels) {
    // lstm.cpp copies in_channels samples into an input of input_size.
    throw invalid(
      fields.at("input_size"),
      `is ${inputSize} but in_channels is ${inChannels}: they must match`,
    );
  }
  const weights = readWeights(file, (reader): LstmWeights => {
    const layers: LstmLayer[] = [];
    for (let l = 0; l < layerCount; l++) {
      const inputs = l === 0 ? inputSize : hidden;
      const name = `LSTM layer ${l}`;
      layers.push({
        inputs,
        w: reader.take(4 * hidden * (inputs + hidden), `${name} weights`),
        b: reader.take(4 * hidden, `${name} bias`),
        h0: reader.take(hidden, `${name} initial hidden state`),
        c0: reader.take(hidden, `${name} initial cell state`),
      });
    }
    return {
      inChannels,
      outChannels,
      hidden,
      layers,
      headW: reader.take(outChannels * hidden, "the head weights"),
      headB: reader.take(outChannels, "the head bias"),
    };
  });
  return {
    architecture: "LSTM",
    create: (exact = false) => new LstmDsp(weights, file.sampleRate, exact),
  };
}

const EMPTY = new Float32Array(0);

/**
 * With the wasm kernels (src/runtime/wasm/kernels.ts recurrentSteps: float32 sums, fast activations) a block
 * runs as one call per layer over the block: x [frames][inChannels] and per layer h [maxBlock + 1][hp] (hp =
 * hidden rounded up to 4), c [hp], all in one arena; h row 0 and c are the state between blocks (this.h / this.c
 * view them, so reset works unchanged). Otherwise, and with exact activations, a JS step per sample and layer
 * (float64 sums, Math.exp / Math.tanh).
 */
class LstmDsp extends DspBase {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly prewarmSamples: number;
  readonly receptiveField = undefined;
  private readonly w: LstmWeights;
  /** Per layer: the hidden and cell state [hidden] (float32, as NAM core keeps them), and saved copies. */
  private h: Float32Array[];
  private c: Float32Array[];
  private readonly savedH: Float32Array[];
  private readonly savedC: Float32Array[];
  /** One sample's input [inChannels] and gate pre-activations [4 * hidden]. */
  private readonly x: Float32Array;
  private readonly gates: Float64Array;

  /** The wasm kernels and their arrays in the arena (see above), or null. */
  private wasm: WasmKernels | null = null;
  private wx: Float32Array = EMPTY;
  private wh: Float32Array[] = [];
  private wc: Float32Array[] = [];
  private ww: Float32Array[] = [];
  private wg: Float32Array = EMPTY;
  /** The head in the arena: weights [outChannels][hp] (zero-padded), bias, output block [outChannels][maxBlock]. */
  private headW: Float32Array = EMPTY;
  private headB: Float32Array = EMPTY;
  private wy: Float32Array = EMPTY;

  constructor(
    weights: LstmWeights,
    sampleRate: number | null,
    private readonly exact: boolean,
  ) {
    super(sampleRate);
    this.w = weights;
    this.inChannels = weights.inChannels;
    this.outChannels = weights.outChannels;
    // lstm.cpp GetPrewarmSamples: half a second at the file's rate, 1 sample when the rate is unknown.
    const half = Math.trunc(0.5 * (sampleRate ?? -1));
    this.prewarmSamples = half <= 0 ? 1 : half;
    const { hidden, layers } = weights;
    this.h = layers.map(() => new Float32Array(hidden));
    this.c = layers.map(() => new Float32Array(hidden));
    this.savedH = layers.map(() => new Float32Array(hidden));
    this.savedC = layers.map(() => new Float32Array(hidden));
    this.x = new Float32Array(weights.inChannels);
    this.gates = new Float64Array(4 * hidden);
  }

  protected allocate(maxBlock: number): void {
    const { layers, hidden, inChannels, outChannels } = this.w;
    if (this.exact || resolveKernelBackend() !== "wasm" || layers.length === 0) {
      this.wasm = null;
      this.h = layers.map(() => new Float32Array(hidden));
      this.c = layers.map(() => new Float32Array(hidden));
      return;
    }
    const hp = paddedHidden(hidden);
    let floats = maxBlock * (inChannels + outChannels) + 4 * hp + outChannels * (hp + 1) + 16;
    for (const layer of layers) floats += (maxBlock + 2) * hp + (1 + layer.inputs + hidden) * 4 * hp + 12;
    const wasm = createWasmKernels({ arenaBytes: 4 * floats });
    this.wasm = wasm;
    this.wx = wasm.alloc(maxBlock * inChannels);
    this.wg = wasm.alloc(4 * hp);
    this.wy = wasm.alloc(outChannels * maxBlock);
    this.headB = wasm.alloc(outChannels);
    this.headB.set(this.w.headB);
    this.headW = wasm.alloc(outChannels * hp);
    for (let o = 0; o < outChannels; o++) {
      for (let k = 0; k < hidden; k++) this.headW[o * hp + k] = this.w.headW[o * hidden + k]!;
    }
    this.wh = layers.map(() => wasm.alloc((maxBlock + 1) * hp));
    this.wc = layers.map(() => wasm.alloc(hp));
    // NAM's W [4H, inputs + H] row-major, gate rows i, f, g, o (q * H + m); b [4H].
    this.ww = layers.map((layer) => {
      const width = layer.inputs + hidden;
      const packed = recurrentWeights(layer.inputs, hidden, (q, m, k) =>
        k < 0 ? layer.b[q * hidden + m]! : layer.w[(q * hidden + m) * width + k]!,
      );
      const w = wasm.alloc(packed.length);
      w.set(packed);
      return w;
    });
    this.h = this.wh.map((h) => h.subarray(0, hidden));
    this.c = this.wc.map((c) => c.subarray(0, hidden));
  }

  process(input: Float32Array, output: Float32Array, frames: number): void {
    if (this.wasm !== null) {
      this.processWasm(this.wasm, input, output, frames);
      return;
    }
    const { w, x, maxBlock } = this;
    const { layers, hidden, headW, headB, inChannels, outChannels } = w;
    const last = this.h[layers.length - 1];
    for (let t = 0; t < frames; t++) {
      for (let ch = 0; ch < inChannels; ch++) x[ch] = input[ch * maxBlock + t]!;
      for (let l = 0; l < layers.length; l++)
        this.step(layers[l]!, this.h[l]!, this.c[l]!, l === 0 ? x : this.h[l - 1]!);
      // The head (with no layers, lstm.cpp passes the input through to the first outputs).
      for (let o = 0; o < outChannels; o++) {
        let y = last === undefined ? (o < inChannels ? x[o]! : 0) : headB[o]!;
        if (last !== undefined) for (let k = 0; k < hidden; k++) y += headW[o * hidden + k]! * last[k]!;
        output[o * maxBlock + t] = y;
      }
    }
  }

  /** A block on the wasm kernels: each layer over the whole block, then the head. */
  private processWasm(wasm: WasmKernels, input: Float32Array, output: Float32Array, frames: number): void {
    const { layers, hidden, inChannels, outChannels } = this.w;
    const { wx, wh, maxBlock } = this;
    const hp = paddedHidden(hidden);
    for (let ch = 0; ch < inChannels; ch++) {
      for (let t = 0; t < frames; t++) wx[t * inChannels + ch] = input[ch * maxBlock + t]!;
    }
    for (let l = 0; l < layers.length; l++) {
      // Layer l > 0 reads the previous layer's new states, rows 1..frames.
      const x = l === 0 ? wx : wh[l - 1]!;
      const at = l === 0 ? 0 : hp;
      const stride = l === 0 ? inChannels : hp;
      const inputs = layers[l]!.inputs;
      wasm.recurrentSteps(
        "lstm",
        wh[l]!,
        this.wc[l]!,
        x,
        at,
        stride,
        this.ww[l]!,
        this.wg,
        inputs,
        hidden,
        frames,
      );
    }
    const { wy } = this;
    wasm.recurrentHead(
      wy,
      0,
      maxBlock,
      wh[layers.length - 1]!,
      this.headW,
      this.headB,
      hidden,
      outChannels,
      frames,
    );
    for (let o = 0; o < outChannels; o++) {
      for (let t = 0; t < frames; t++) output[o * maxBlock + t] = wy[o * maxBlock + t]!;
    }
    // The state after the block becomes row 0 for the next one.
    for (let l = 0; l < layers.length; l++) wh[l]!.copyWithin(0, frames * hp, (frames + 1) * hp);
  }

  /**
   * One cell step: reads x [inputs] and the old h, then updates c and h in place. Sigmoids written out: a
   * function returning a double that V8 does not inline returns it boxed (an allocation per call).
   */
  private step(layer: LstmLayer, h: Float32Array, c: Float32Array, x: Float32Array): void {
    const { inputs, w, b } = layer;
    const hidden = this.w.hidden;
    const gates = this.gates;
    const width = inputs + hidden;
    for (let r = 0; r < 4 * hidden; r++) {
      const row = r * width;
      let acc = b[r]!;
      for (let j = 0; j < inputs; j++) acc += w[row + j]! * x[j]!;
      for (let k = 0; k < hidden; k++) acc += w[row + inputs + k]! * h[k]!;
      gates[r] = acc;
    }
    // Gates i, f, g, o; activations.h sigmoid(v) = 1 / (1 + exp(-v)).
    for (let k = 0; k < hidden; k++) {
      const i = 1 / (1 + Math.exp(-gates[k]!));
      const f = 1 / (1 + Math.exp(-gates[hidden + k]!));
      const o = 1 / (1 + Math.exp(-gates[3 * hidden + k]!));
      c[k] = f * c[k]! + i * Math.tanh(gates[2 * hidden + k]!);
      h[k] = o * Math.tanh(c[k]!);
    }
  }

  clearState(): void {
    const layers = this.w.layers;
    for (let l = 0; l < layers.length; l++) {
      this.h[l]!.set(layers[l]!.h0);
      this.c[l]!.set(layers[l]!.c0);
    }
  }

  saveState(): void {
    for (let l = 0; l < this.h.length; l++) {
      this.savedH[l]!.set(this.h[l]!);
      this.savedC[l]!.set(this.c[l]!);
    }
  }

  restoreState(): void {
    for (let l = 0; l < this.h.length; l++) {
      this.h[l]!.set(this.savedH[l]!);
      this.c[l]!.set(this.savedC[l]!);
    }
  }
}
