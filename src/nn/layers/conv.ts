import { DeepspError } from "../../core/errors.ts";
import { type ConvShape, convOutLength, type Floats, kernels } from "../kernels/index.ts";
import {
  type ConvTransposeShape,
  convTranspose1dBackwardData,
  convTranspose1dBackwardWeights,
  convTranspose1dForward,
} from "../kernels/js/conv-transpose.ts";
import { fanInInit, type ParameterSpec, type Parameters } from "../parameters.ts";
import type { Layer } from "./layer.ts";
import { expectChannels, reuse, type Sequence } from "./sequence.ts";

export interface Conv1dConfig {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  /** Default 1. */
  dilation?: number;
  /** Default 1. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /**
   * "valid" (default): out = in - (kernelSize - 1) * dilation, the input carries its own history (the
   * receptive-field prefix of a training window). "causal": zeros before the input, out = in.
   */
  padding?: "valid" | "causal";
}

/** Dilated causal 1-D convolution (PyTorch nn.Conv1d layout and default initialisation). */
export class Conv1dLayer implements Layer {
  readonly name: string;
  readonly config: Required<Conv1dConfig>;
  weight!: Floats;
  weightGrad!: Floats;
  private bias: Floats | null = null;
  private biasGrad: Floats | null = null;
  private input: Sequence | undefined;
  private output: Floats | undefined;
  private inputGrad: Floats | undefined;

  constructor(name: string, config: Conv1dConfig) {
    this.name = name;
    this.config = { dilation: 1, groups: 1, bias: true, padding: "valid", ...config };
    const { inChannels, outChannels, kernelSize, dilation, groups } = this.config;
    for (const [field, value] of Object.entries({ inChannels, outChannels, kernelSize, dilation, groups })) {
      if (!(Number.isInteger(value) && value >= 1)) {
        throw new DeepspError("model/config", `${name}: ${field} must be a whole number >= 1, got ${value}`);
      }
    }
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new DeepspError(
        "model/config",
        `${name}: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`,
      );
    }
  }

  /** Input samples that one output sample depends on. */
  get receptiveField(): number {
    return (this.config.kernelSize - 1) * this.config.dilation + 1;
  }

  parameterSpecs(): ParameterSpec[] {
    const { inChannels, outChannels, kernelSize, groups } = this.config;
    const init = fanInInit((inChannels / groups) * kernelSize);
    const specs: ParameterSpec[] = [
      { name: `${this.name}.weight`, shape: [outChannels, inChannels / groups, kernelSize], init },
    ];
    if (this.config.bias) specs.push({ name: `${this.name}.bias`, shape: [outChannels], init });
    return specs;
  }

  bind(parameters: Parameters): void {
    this.weight = parameters.value(`${this.name}.weight`);
    this.weightGrad = parameters.grad(`${this.name}.weight`);
    if (this.config.bias) {
      this.bias = parameters.value(`${this.name}.bias`);
      this.biasGrad = parameters.grad(`${this.name}.bias`);
    }
  }

  shapeFor(input: Sequence): ConvShape {
    const { inChannels, outChannels, kernelSize, dilation, groups, padding } = this.config;
    return {
      batch: input.batch,
      inChannels,
      outChannels,
      inLength: input.length,
      kernelSize,
      dilation,
      groups,
      padLeft: padding === "causal" ? (kernelSize - 1) * dilation : 0,
    };
  }

  forward(input: Sequence): Sequence {
    expectChannels(this.name, input, this.config.inChannels);
    const shape = this.shapeFor(input);
    const length = convOutLength(shape);
    if (length < 1) {
      throw new DeepspError(
        "model/shape",
        `${this.name}: input of ${input.length} samples is shorter than the receptive field ${this.receptiveField}`,
      );
    }
    this.input = input;
    this.output = reuse(this.output, input.batch * shape.outChannels * length, input.data);
    kernels().conv1dForward(this.output, input.data, this.weight, this.bias, shape);
    return { data: this.output, batch: input.batch, channels: shape.outChannels, length };
  }

  /**
   * `start` (optional, the input's size): the input gradient is added to these values instead of zeros, so a
   * model summing gradients from two paths saves a pass over the activations.
   */
  backward(dOutput: Sequence, inputGradient: boolean, start: Floats | null = null): Sequence | null {
    const input = this.input!;
    const shape = this.shapeFor(input);
    kernels().conv1dBackwardWeights(this.weightGrad, this.biasGrad, dOutput.data, input.data, shape);
    if (!inputGradient) return null;
    this.inputGrad = reuse(this.inputGrad, input.data.length, input.data);
    if (start) this.inputGrad.set(start);
    else this.inputGrad.fill(0);
    kernels().conv1dBackwardData(this.inputGrad, dOutput.data, this.weight, shape);
    return { data: this.inputGrad, batch: input.batch, channels: input.channels, length: input.length };
  }
}

export interface ConvTranspose1dConfig {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/**
 * Transposed 1-D convolution (PyTorch nn.ConvTranspose1d, stride 1): out = in + (kernelSize - 1) * dilation.
 * Tied form: given a Conv1dLayer whose conv maps outChannels <- inChannels here, it reuses that layer's
 * filters (the study's network) and adds its weight gradient into the same buffer.
 */
export class ConvTranspose1dLayer implements Layer {
  readonly name: string;
  readonly config: Required<ConvTranspose1dConfig>;
  readonly tiedTo: Conv1dLayer | null;
  private weight!: Floats;
  private weightGrad!: Floats;
  private bias: Floats | null = null;
  private biasGrad: Floats | null = null;
  private input: Sequence | undefined;
  private output: Floats | undefined;
  private inputGrad: Floats | undefined;

  constructor(name: string, config: ConvTranspose1dConfig, tiedTo: Conv1dLayer | null = null) {
    this.name = name;
    this.config = { dilation: 1, groups: 1, bias: true, ...config };
    this.tiedTo = tiedTo;
    if (tiedTo) {
      const conv = tiedTo.config;
      const matches =
        conv.outChannels === this.config.inChannels &&
        conv.inChannels === this.config.outChannels &&
        conv.kernelSize === this.config.kernelSize &&
        conv.groups === this.config.groups;
      if (!matches) {
        throw new DeepspError(
          "model/config",
          `${name}: a tied transposed conv needs the mirror of ${tiedTo.name} (in ${conv.outChannels}, out ${conv.inChannels}, kernel ${conv.kernelSize}, groups ${conv.groups})`,
        );
      }
    }
  }

  parameterSpecs(): ParameterSpec[] {
    const { inChannels, outChannels, kernelSize, groups } = this.config;
    // PyTorch computes ConvTranspose1d's fan-in from weight.size(1) * kernelSize = outChannels / groups * K.
    const init = fanInInit((outChannels / groups) * kernelSize);
    const specs: ParameterSpec[] = [];
    if (!this.tiedTo)
      specs.push({
        name: `${this.name}.weight`,
        shape: [inChannels, outChannels / groups, kernelSize],
        init,
      });
    if (this.config.bias) specs.push({ name: `${this.name}.bias`, shape: [outChannels], init });
    return specs;
  }

  bind(parameters: Parameters): void {
    const weightName = `${this.tiedTo ? this.tiedTo.name : this.name}.weight`;
    this.weight = parameters.value(weightName);
    this.weightGrad = parameters.grad(weightName);
    if (this.config.bias) {
      this.bias = parameters.value(`${this.name}.bias`);
      this.biasGrad = parameters.grad(`${this.name}.bias`);
    }
  }

  private shapeFor(input: Sequence): ConvTransposeShape {
    const { inChannels, outChannels, kernelSize, dilation, groups } = this.config;
    return {
      batch: input.batch,
      inChannels,
      outChannels,
      inLength: input.length,
      kernelSize,
      dilation,
      groups,
    };
  }

  forward(input: Sequence): Sequence {
    expectChannels(this.name, input, this.config.inChannels);
    const shape = this.shapeFor(input);
    const length = input.length + (shape.kernelSize - 1) * shape.dilation;
    this.input = input;
    this.output = reuse(this.output, input.batch * shape.outChannels * length, input.data);
    convTranspose1dForward(this.output, input.data, this.weight, this.bias, shape, kernels());
    return { data: this.output, batch: input.batch, channels: shape.outChannels, length };
  }

  backward(dOutput: Sequence, inputGradient: boolean): Sequence | null {
    const input = this.input!;
    const shape = this.shapeFor(input);
    convTranspose1dBackwardWeights(
      this.weightGrad,
      this.biasGrad,
      dOutput.data,
      input.data,
      shape,
      kernels(),
    );
    if (!inputGradient) return null;
    this.inputGrad = reuse(this.inputGrad, input.data.length, input.data);
    this.inputGrad.fill(0);
    convTranspose1dBackwardData(this.inputGrad, dOutput.data, this.weight, shape, kernels());
    return { data: this.inputGrad, batch: input.batch, channels: input.channels, length: input.length };
  }
}
