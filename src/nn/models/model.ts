import type { Sequence } from "../layers/sequence.ts";
import type { Parameters } from "../parameters.ts";

/**
 * A trainable model: [batch, channels, inLength] -> [batch, channels, inLength - (receptiveField - 1)].
 * Convolutional models consume a window's receptive-field prefix; recurrent models have receptiveField 1
 * (their memory is their state) and use a loss mask over a burn-in region instead.
 */
export interface Model {
  readonly architecture: string;
  readonly parameters: Parameters;
  /** Input samples each output sample depends on (1 for recurrent models). */
  readonly receptiveField: number;
  /** Audio channels in and out. */
  readonly channels: number;
  /** True for LSTM/GRU models: their output depends on state carried from earlier samples. */
  readonly recurrent: boolean;
  forward(input: Sequence): Sequence;
  /** Adds d loss / d parameters for the last forward call into parameters.grads. */
  backward(dOutput: Sequence): void;
  /**
   * Recurrent models: with `carry` on, each forward call continues from the state the previous call left
   * (truncated backpropagation through time: no gradient flows across calls); `resetState` starts from
   * zeros again. No-ops for other models.
   */
  setCarryState(carry: boolean): void;
  resetState(): void;
  /** The constructor options, with defaults filled in: createModel(toConfig()) rebuilds the same model. */
  toConfig(): { architecture: string } & Record<string, unknown>;
}
