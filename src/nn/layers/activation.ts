import { DeepspError } from "../../core/errors.ts";
import { type ActivationKind, type Floats, kernels } from "../kernels/index.ts";
import type { ParameterSpec } from "../parameters.ts";
import type { Layer } from "./layer.ts";
import { reuse, type Sequence } from "./sequence.ts";

export const ACTIVATIONS: readonly ActivationKind[] = [
  "identity",
  "tanh",
  "sigmoid",
  "relu",
  "leakyRelu",
  "softsign",
  "silu",
  "hardtanh",
];

/** Elementwise activation; `alpha` is leaky ReLU's negative slope (PyTorch's default 0.01). */
export class ActivationLayer implements Layer {
  readonly name: string;
  readonly kind: ActivationKind;
  readonly alpha: number;
  private input: Sequence | undefined;
  private output: Floats | undefined;
  private inputGrad: Floats | undefined;

  constructor(name: string, kind: ActivationKind, alpha = 0.01) {
    if (!ACTIVATIONS.includes(kind)) {
      throw new DeepspError(
        "model/config",
        `${name}: unknown activation "${kind}" (valid: ${ACTIVATIONS.join(", ")})`,
      );
    }
    this.name = name;
    this.kind = kind;
    this.alpha = alpha;
  }

  parameterSpecs(): ParameterSpec[] {
    return [];
  }

  bind(): void {}

  forward(input: Sequence): Sequence {
    this.input = input;
    this.output = reuse(this.output, input.data.length, input.data);
    kernels().activationForward(this.output, input.data, this.kind, input.data.length, this.alpha);
    return { ...input, data: this.output };
  }

  backward(dOutput: Sequence, inputGradient: boolean): Sequence | null {
    if (!inputGradient) return null;
    const input = this.input!;
    this.inputGrad = reuse(this.inputGrad, input.data.length, input.data);
    this.inputGrad.fill(0);
    kernels().activationBackward(
      this.inputGrad,
      dOutput.data,
      input.data,
      this.output!,
      this.kind,
      input.data.length,
      this.alpha,
    );
    return { ...input, data: this.inputGrad };
  }
}

/** WaveNet's gated activation: [batch, 2C, T] -> [batch, C, T], tanh(first half) * sigmoid(second half). */
export class GatedLayer implements Layer {
  readonly name: string;
  private input: Sequence | undefined;
  private output: Floats | undefined;
  private inputGrad: Floats | undefined;

  constructor(name: string) {
    this.name = name;
  }

  parameterSpecs(): ParameterSpec[] {
    return [];
  }

  bind(): void {}

  forward(input: Sequence): Sequence {
    if (input.channels % 2 !== 0) {
      throw new DeepspError(
        "model/shape",
        `${this.name}: the gated activation needs an even channel count, got ${input.channels}`,
      );
    }
    const channels = input.channels / 2;
    this.input = input;
    this.output = reuse(this.output, input.batch * channels * input.length, input.data);
    kernels().gatedForward(this.output, input.data, input.batch, channels, input.length);
    return { data: this.output, batch: input.batch, channels, length: input.length };
  }

  backward(dOutput: Sequence, inputGradient: boolean): Sequence | null {
    if (!inputGradient) return null;
    const input = this.input!;
    this.inputGrad = reuse(this.inputGrad, input.data.length, input.data);
    this.inputGrad.fill(0);
    kernels().gatedBackward(
      this.inputGrad,
      dOutput.data,
      input.data,
      input.batch,
      input.channels / 2,
      input.length,
    );
    return { ...input, data: this.inputGrad };
  }
}
