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
  /** Audio channels in and out (1 mono, 2 for stereo-kept data). Default 1. */
  channels?: number;
  /** output = head(h) + input (Wright et al. 2019; NAM's LSTM). Default true. */
  inputSkip?: boolean;
}

/**
 * Recurrent amp model: one LSTM/GRU layer over the input channels, a linear head from the hidden state to
 * each output channel, plus the input itself (the network learns the difference from "doing nothing").
 * Parameter names: rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh, head.weight, head.bias.
 */
export class RnnModel implements Model {
  readonly architecture: string;
  readonly parameters: Parameters;
  readonly receptiveField = 1;
  readonly channels: number;
  readonly config: Required<RnnConfig>;
  readonly rnn: RecurrentLayer;
  private readonly head: Conv1dLayer;
  private output: Floats | undefined;

  constructor(config: RnnConfig, options: { seed?: number; floatType?: FloatType } = {}) {
    this.config = { channels: 1, inputSkip: true, ...config };
    this.architecture = this.config.cell;
    this.channels = this.config.channels;
    if (!(Number.isInteger(this.channels) && this.channels >= 1)) {
      throw new DeepspError(
        "model/config",
        `${this.architecture}: channels must be a whole number >= 1, got ${this.channels}`,
      );
    }
    this.rnn = new RecurrentLayer("rnn", this.config.cell, {
      inputs: this.channels,
      hidden: this.config.hidden,
    });
    this.head = new Conv1dLayer("head", {
      inChannels: this.config.hidden,
      outChannels: this.channels,
      kernelSize: 1,
    });
    this.parameters = new Parameters(
      [...this.rnn.parameterSpecs(), ...this.head.parameterSpecs()],
      options.floatType,
    );
    this.parameters.initialize(options.seed ?? 0);
    this.rnn.bind(this.parameters);
    this.head.bind(this.parameters);
  }

  forward(input: Sequence): Sequence {
    const out = this.head.forward(this.rnn.forward(input));
    if (!this.config.inputSkip) return out;
    this.output = reuse(this.output, out.data.length, out.data);
    for (let i = 0; i < out.data.length; i++) this.output[i] = out.data[i]! + input.data[i]!;
    return { ...out, data: this.output };
  }

  backward(dOutput: Sequence): void {
    // The skip carries no parameters: its gradient goes to the input, which needs none.
    this.rnn.backward(this.head.backward(dOutput, true)!, false);
  }

  toConfig(): { architecture: string } & Required<RnnConfig> {
    return { architecture: this.architecture, ...this.config };
  }
}
