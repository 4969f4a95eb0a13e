import { DeepspError } from "../../core/errors.ts";
import { kernels } from "../kernels/index.ts";
import type { Floats } from "../kernels/types.ts";
import { Conv1dLayer } from "../layers/conv.ts";
import { RecurrentLayer } from "../layers/recurrent.ts";
import { fromTimeMajor, reuse, type Sequence, toTimeMajor } from "../layers/sequence.ts";
import { type FloatType, Parameters } from "../parameters.ts";
import type { Model } from "./model.ts";

export interface RnnConfig {
  cell: "lstm" | "gru";
  hidden: number;
  /** Stacked recurrent layers (NAM trains 1 to 5). Default 1. */
  layers?: number;
  /** Audio channels in and out (1 mono, 2 for stereo-kept data). Default 1. */
  channels?: number;
  /** output = head(h) + input (Wright et al. 2019). Default true. */
  inputSkip?: boolean;
}

/**
 * Recurrent amp model: `layers` stacked LSTM/GRU layers over the input channels, a linear head from the last
 * hidden state to each output channel, plus (by default) the input itself, so the network learns the
 * difference from "doing nothing". Parameter names: rnn.<layer>.weight_ih / weight_hh / bias_ih / bias_hh,
 * head.weight, head.bias.
 */
export class RnnModel implements Model {
  readonly architecture: "lstm" | "gru";
  readonly parameters: Parameters;
  readonly receptiveField = 1;
  readonly recurrent = true;
  readonly channels: number;
  readonly config: Required<RnnConfig>;
  readonly rnn: RecurrentLayer[] = [];
  /** The head's tensors (a 1x1 conv's: head.weight [channels, hidden, 1], head.bias), run as a dense layer. */
  private readonly head: { weight: Floats; bias: Floats; weightGrad: Floats; biasGrad: Floats };
  private hT: Floats | undefined;
  private outT: Floats | undefined;
  private dOutT: Floats | undefined;
  private dhT: Floats | undefined;
  private output: Floats | undefined;

  constructor(config: RnnConfig, options: { seed?: number; floatType?: FloatType } = {}) {
    this.config = { layers: 1, channels: 1, inputSkip: true, ...config };
    const { cell, hidden, layers, channels } = this.config;
    this.architecture = cell;
    this.channels = channels;
    for (const [field, value] of Object.entries({ hidden, layers, channels })) {
      if (!(Number.isInteger(value) && value >= 1)) {
        throw new DeepspError("model/config", `${cell}: ${field} must be a whole number >= 1, got ${value}`);
      }
    }
    for (let i = 0; i < layers; i++) {
      this.rnn.push(new RecurrentLayer(`rnn.${i}`, cell, { inputs: i === 0 ? channels : hidden, hidden }));
    }
    // The head's tensors are a 1x1 conv's (names, shapes and initialisation, as model files and .nam export know
    // them); it runs as a dense layer over the last recurrent layer's time-major rows, which saves transposing
    // its [batch, hidden, length] output and gradient, the largest copies of a batch-256 step (LSTM-16 batch 256
    // in `npm run bench -- training`: 1.52M samples/s before this and the tiled transposes, 1.81-1.85M after).
    const head = new Conv1dLayer("head", { inChannels: hidden, outChannels: channels, kernelSize: 1 });
    const all = [...this.rnn, head];
    this.parameters = new Parameters(
      all.flatMap((layer) => layer.parameterSpecs()),
      options.floatType,
    );
    this.parameters.initialize(options.seed ?? 0);
    for (const layer of this.rnn) layer.bind(this.parameters);
    this.head = {
      weight: this.parameters.value("head.weight"),
      bias: this.parameters.value("head.bias"),
      weightGrad: this.parameters.grad("head.weight"),
      biasGrad: this.parameters.grad("head.bias"),
    };
  }

  setCarryState(carry: boolean): void {
    for (const layer of this.rnn) layer.carryState = carry;
  }

  resetState(): void {
    for (const layer of this.rnn) layer.resetState();
  }

  forward(input: Sequence): Sequence {
    const last = this.rnn.length - 1;
    let h = input;
    for (let i = 0; i < last; i++) h = this.rnn[i]!.forward(h);
    const hT = this.rnn[last]!.forwardTimeMajor(h);
    const { batch, length } = input;
    const { channels, hidden } = this.config;
    const rows = length * batch;
    this.hT = hT;
    this.outT = reuse(this.outT, rows * channels, hT);
    kernels().denseForward(this.outT, hT, this.head.weight, this.head.bias, {
      rows,
      inputs: hidden,
      outputs: channels,
    });
    this.output = reuse(this.output, rows * channels, hT);
    fromTimeMajor(this.output, this.outT, batch, channels, length);
    if (this.config.inputSkip) {
      for (let i = 0; i < this.output.length; i++) this.output[i] = this.output[i]! + input.data[i]!;
    }
    return { data: this.output, batch, channels, length };
  }

  backward(dOutput: Sequence): void {
    // The skip carries no parameters: its gradient would go to the input, which needs none.
    const { batch, channels, length } = dOutput;
    const hT = this.hT!;
    this.dOutT = reuse(this.dOutT, dOutput.data.length, dOutput.data);
    toTimeMajor(this.dOutT, dOutput.data, batch, channels, length);
    this.dhT = reuse(this.dhT, hT.length, hT);
    this.dhT.fill(0);
    const shape = { rows: length * batch, inputs: this.config.hidden, outputs: channels };
    const { weight, weightGrad, biasGrad } = this.head;
    kernels().denseBackward(this.dhT, weightGrad, biasGrad, this.dOutT, hT, weight, shape);
    const last = this.rnn.length - 1;
    let d = this.rnn[last]!.backwardTimeMajor(this.dhT, last > 0);
    for (let i = last - 1; i >= 0 && d !== null; i--) d = this.rnn[i]!.backward(d, i > 0);
  }

  toConfig(): { architecture: "lstm" | "gru" } & Omit<Required<RnnConfig>, "cell"> {
    const { cell: _, ...rest } = this.config;
    return { architecture: this.architecture, ...rest };
  }
}
