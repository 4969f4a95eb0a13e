import { DeepspError } from "../../core/errors.ts";
import { Conv1dLayer } from "../layers/conv.ts";
import type { Sequence } from "../layers/sequence.ts";
import { type FloatType, Parameters } from "../parameters.ts";
import type { Model } from "./model.ts";

export interface LinearConfig {
  /** FIR length in samples (the receptive field). */
  taps: number;
  /** Default true. */
  bias?: boolean;
  /** Audio channels; each output channel is an FIR over every input channel. Default 1. */
  channels?: number;
}

/**
 * An FIR filter, y[t] = b + sum_k w[k] x[t - taps + 1 + k]: the right model for a linear effect (the study's
 * low-pass is one). Parameter names: fir.weight [channels, channels, taps], fir.bias. Taps are stored oldest
 * first (PyTorch conv order); NAM's Linear stores them newest first, converted at export.
 */
export class LinearModel implements Model {
  readonly architecture = "linear";
  readonly parameters: Parameters;
  readonly receptiveField: number;
  readonly recurrent = false;
  readonly channels: number;
  readonly config: Required<LinearConfig>;
  private readonly fir: Conv1dLayer;

  constructor(config: LinearConfig, options: { seed?: number; floatType?: FloatType } = {}) {
    this.config = { bias: true, channels: 1, ...config };
    const { taps, bias, channels } = this.config;
    if (!(Number.isInteger(taps) && taps >= 1)) {
      throw new DeepspError("model/config", `linear: taps must be a whole number >= 1, got ${taps}`);
    }
    this.channels = channels;
    this.fir = new Conv1dLayer("fir", {
      inChannels: channels,
      outChannels: channels,
      kernelSize: taps,
      bias,
    });
    this.parameters = new Parameters(this.fir.parameterSpecs(), options.floatType);
    this.parameters.initialize(options.seed ?? 0);
    this.fir.bind(this.parameters);
    this.receptiveField = taps;
  }

  forward(input: Sequence): Sequence {
    return this.fir.forward(input);
  }

  backward(dOutput: Sequence): void {
    this.fir.backward(dOutput, false);
  }

  setCarryState(): void {}

  resetState(): void {}

  toConfig(): { architecture: "linear" } & Required<LinearConfig> {
    return { architecture: this.architecture, ...this.config };
  }
}
