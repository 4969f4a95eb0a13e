import { DeepspError } from "../../core/errors.ts";
import { type Floats, kernels } from "../kernels/index.ts";
import { fanInInit, type ParameterSpec, type Parameters } from "../parameters.ts";
import type { Layer } from "./layer.ts";
import { expectChannels, reuse, type Sequence } from "./sequence.ts";

export interface DenseConfig {
  inputs: number;
  outputs: number;
  /** Default true. */
  bias?: boolean;
}

/**
 * Fully connected layer (PyTorch nn.Linear) on feature vectors: a Sequence of length 1, channels = features,
 * so batch rows are [batch, inputs] in memory. (Per-time-step mixing of channels is a 1x1 Conv1dLayer.)
 */
export class DenseLayer implements Layer {
  readonly name: string;
  readonly config: Required<DenseConfig>;
  private weight!: Floats;
  private weightGrad!: Floats;
  private bias: Floats | null = null;
  private biasGrad: Floats | null = null;
  private input: Sequence | undefined;
  private output: Floats | undefined;
  private inputGrad: Floats | undefined;

  constructor(name: string, config: DenseConfig) {
    this.name = name;
    this.config = { bias: true, ...config };
    for (const field of ["inputs", "outputs"] as const) {
      const value = this.config[field];
      if (!(Number.isInteger(value) && value >= 1)) {
        throw new DeepspError("model/config", `${name}: ${field} must be a whole number >= 1, got ${value}`);
      }
    }
  }

  parameterSpecs(): ParameterSpec[] {
    const init = fanInInit(this.config.inputs);
    const specs: ParameterSpec[] = [
      { name: `${this.name}.weight`, shape: [this.config.outputs, this.config.inputs], init },
    ];
    if (this.config.bias) specs.push({ name: `${this.name}.bias`, shape: [this.config.outputs], init });
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

  forward(input: Sequence): Sequence {
    expectChannels(this.name, input, this.config.inputs);
    if (input.length !== 1) {
      throw new DeepspError(
        "model/shape",
        `${this.name}: a dense layer takes feature vectors (length 1), got length ${input.length}`,
      );
    }
    const shape = { rows: input.batch, inputs: this.config.inputs, outputs: this.config.outputs };
    this.input = input;
    this.output = reuse(this.output, input.batch * shape.outputs, input.data);
    kernels().denseForward(this.output, input.data, this.weight, this.bias, shape);
    return { data: this.output, batch: input.batch, channels: shape.outputs, length: 1 };
  }

  backward(dOutput: Sequence, inputGradient: boolean): Sequence | null {
    const input = this.input!;
    const shape = { rows: input.batch, inputs: this.config.inputs, outputs: this.config.outputs };
    let dx: Floats | null = null;
    if (inputGradient) {
      this.inputGrad = reuse(this.inputGrad, input.data.length, input.data);
      this.inputGrad.fill(0);
      dx = this.inputGrad;
    }
    kernels().denseBackward(dx, this.weightGrad, this.biasGrad, dOutput.data, input.data, this.weight, shape);
    return dx === null ? null : { data: dx, batch: input.batch, channels: input.channels, length: 1 };
  }
}
