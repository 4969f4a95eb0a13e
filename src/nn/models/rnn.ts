import { DeepspError } from "../../core/errors.ts";
import type { Floats } from "../kernels/types.ts";
import { Conv1dLayer } from "../layers/conv.ts";
import { RecurrentLayer } from "../layers/recurrent.ts";
import { reuse, type Sequence } from "../layers/sequence.ts";
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
  private readonly head: Conv1dLayer;
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
    this.head = new Conv1dLayer("head", { inChannels: hidden, outChannels: channels, kernelSize: 1 });
    const all = [...this.rnn, this.head];
    this.parameters = new Parameters(
      all.flatMap((layer) => layer.parameterSpecs()),
      options.floatType,
    );
    this.parameters.initialize(options.seed ?? 0);
    for (const layer of all) layer.bind(this.parameters);
  }

  setCarryState(carry: boolean): void {
    for (const layer of this.rnn) layer.carryState = carry;
  }

  resetState(): void {
    for (const layer of this.rnn) layer.resetState();
  }

  forward(input: Sequence): Sequence {
    let h = input;
    for (const layer of this.rnn) h = layer.forward(h);
    const out = this.head.forward(h);
    if (!this.config.inputSkip) return out;
    this.output = reuse(this.output, out.data.length, out.data);
    for (let i = 0; i < out.data.length; i++) this.output[i] = out.data[i]! + input.data[i]!;
    return { ...out, data: this.output };
  }

  backward(dOutput: Sequence): void {
    // The skip carries no parameters: its gradient would go to the input, which needs none.
    let d = this.head.backward(dOutput, true);
    for (let i = this.rnn.length - 1; i >= 0 && d !== null; i--) d = this.rnn[i]!.backward(d, i > 0);
  }

  toConfig(): { architecture: "lstm" | "gru" } & Omit<Required<RnnConfig>, "cell"> {
    const { cell: _, ...rest } = this.config;
    return { architecture: this.architecture, ...rest };
  }
}
