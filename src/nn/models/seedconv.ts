import { DeepspError } from "../../core/errors.ts";
import type { ActivationKind, Floats } from "../kernels/types.ts";
import { ActivationLayer } from "../layers/activation.ts";
import { Conv1dLayer, ConvTranspose1dLayer } from "../layers/conv.ts";
import type { Layer } from "../layers/layer.ts";
import { reuse, type Sequence } from "../layers/sequence.ts";
import { type FloatType, Parameters } from "../parameters.ts";
import type { Model } from "./model.ts";

export interface SeedconvConfig {
  /** Conv filters (the study used 50). Default 50. */
  filters?: number;
  /** Filter length in samples (the study used 50). Default 50. */
  kernelSize?: number;
  /**
   * The middle layer between conv and transposed conv: "dense" mixes all filters at each sample (a 1x1 conv),
   * "perFilter" scales each filter's output on its own (the study's code: lay0 * w1 + b1), "none" skips it
   * (the study's "no middle" experiment). Default "dense".
   */
  middle?: "dense" | "perFilter" | "none";
  /** The transposed conv reuses the conv's filters (the study's network). Default true. */
  tied?: boolean;
  /** Default "relu", as in the study. */
  activation?: ActivationKind;
}

/**
 * The study's convolutional network ("Deep Signal Processing", conv.py), made causal: a conv layer
 * (1 -> filters, kernelSize, bias, activation), a middle layer (+ activation), and a transposed conv
 * (filters -> 1) that by default reuses the conv's filters. The study used 'SAME' padding, which looks
 * kernelSize / 2 samples ahead; here both convs are 'valid' and the output is aligned with the latest input
 * it depends on, so the model runs in real time: receptive field 2 * kernelSize - 1, output
 * = input - 2 * (kernelSize - 1). Parameter names: conv.weight, conv.bias, middle.weight, middle.bias,
 * output.bias (+ output.weight when untied).
 */
export class SeedconvModel implements Model {
  readonly architecture = "seedconv";
  readonly parameters: Parameters;
  readonly receptiveField: number;
  readonly recurrent = false;
  readonly channels = 1;
  readonly config: Required<SeedconvConfig>;
  private readonly layers: Layer[];
  private readonly output: ConvTranspose1dLayer;
  private cropped: Floats | undefined;
  private croppedGrad: Floats | undefined;
  private fullLength = 0;

  constructor(config: SeedconvConfig = {}, options: { seed?: number; floatType?: FloatType } = {}) {
    this.config = { filters: 50, kernelSize: 50, middle: "dense", tied: true, activation: "relu", ...config };
    const { filters, kernelSize, middle, tied, activation } = this.config;
    if (!["dense", "perFilter", "none"].includes(middle)) {
      throw new DeepspError(
        "model/config",
        `seedconv: middle must be dense, perFilter or none, got ${middle}`,
      );
    }
    const conv = new Conv1dLayer("conv", { inChannels: 1, outChannels: filters, kernelSize });
    this.layers = [conv, new ActivationLayer("conv.activation", activation)];
    if (middle !== "none") {
      const groups = middle === "perFilter" ? filters : 1;
      this.layers.push(
        new Conv1dLayer("middle", { inChannels: filters, outChannels: filters, kernelSize: 1, groups }),
      );
      this.layers.push(new ActivationLayer("middle.activation", activation));
    }
    this.output = new ConvTranspose1dLayer(
      "output",
      { inChannels: filters, outChannels: 1, kernelSize },
      tied ? conv : null,
    );
    const all = [...this.layers, this.output];
    this.parameters = new Parameters(
      all.flatMap((layer) => layer.parameterSpecs()),
      options.floatType,
    );
    this.parameters.initialize(options.seed ?? 0);
    for (const layer of all) layer.bind(this.parameters);
    this.receptiveField = 2 * kernelSize - 1;
  }

  forward(input: Sequence): Sequence {
    let h = input;
    for (const layer of this.layers) h = layer.forward(h);
    const full = this.output.forward(h); // input.length samples; keep those with a full feature history
    const skip = this.config.kernelSize - 1;
    const length = full.length - 2 * skip;
    if (length < 1) {
      throw new DeepspError(
        "model/shape",
        `seedconv: input of ${input.length} samples is shorter than the receptive field ${this.receptiveField}`,
      );
    }
    this.fullLength = full.length;
    this.cropped = reuse(this.cropped, full.batch * length, full.data);
    for (let b = 0; b < full.batch; b++) {
      this.cropped.set(
        full.data.subarray(b * full.length + skip, b * full.length + skip + length),
        b * length,
      );
    }
    return { data: this.cropped, batch: full.batch, channels: 1, length };
  }

  backward(dOutput: Sequence): void {
    const skip = this.config.kernelSize - 1;
    this.croppedGrad = reuse(this.croppedGrad, dOutput.batch * this.fullLength, dOutput.data);
    this.croppedGrad.fill(0);
    for (let b = 0; b < dOutput.batch; b++) {
      this.croppedGrad.set(
        dOutput.data.subarray(b * dOutput.length, (b + 1) * dOutput.length),
        b * this.fullLength + skip,
      );
    }
    let d = this.output.backward(
      { data: this.croppedGrad, batch: dOutput.batch, channels: 1, length: this.fullLength },
      true,
    );
    for (let i = this.layers.length - 1; i >= 0 && d !== null; i--) d = this.layers[i]!.backward(d, i > 0);
  }

  setCarryState(): void {}

  resetState(): void {}

  toConfig(): { architecture: "seedconv" } & Required<SeedconvConfig> {
    return { architecture: this.architecture, ...this.config };
  }
}
