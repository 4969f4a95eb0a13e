import type { ParameterSpec, Parameters } from "../parameters.ts";
import type { Sequence } from "./sequence.ts";

/**
 * A layer owns views into its model's flat parameter buffers and keeps, from its last forward pass, what its
 * backward pass needs (llm.c style: explicit forward and backward, no autograd graph).
 */
export interface Layer {
  /** Dotted prefix of its parameters ("layers.3.conv"). */
  readonly name: string;
  /** The tensors it needs, with shapes and initialisation (names are `${name}.<tensor>`). */
  parameterSpecs(): ParameterSpec[];
  /** Takes views of its tensors and their gradients. Called once the model's Parameters exist. */
  bind(parameters: Parameters): void;
  /** [batch, inChannels, inLength] -> [batch, outChannels, outLength]. The result is valid until the next call. */
  forward(input: Sequence): Sequence;
  /**
   * Adds parameter gradients for the last forward call and returns d loss / d input, or null when
   * `inputGradient` is false (the first layer of a model: nothing upstream needs it).
   */
  backward(dOutput: Sequence, inputGradient: boolean): Sequence | null;
}
