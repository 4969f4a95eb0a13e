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
  forward(input: Sequence): Sequence;
  /** Adds d loss / d parameters for the last forward call into parameters.grads. */
  backward(dOutput: Sequence): void;
  toConfig(): { architecture: string } & Record<string, unknown>;
}
