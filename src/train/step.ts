import { DeepspError } from "../core/errors.ts";
import type { Floats } from "../nn/kernels/types.ts";
import { reuse, type Sequence } from "../nn/layers/sequence.ts";
import type { Model } from "../nn/models/model.ts";
import type { Loss } from "./losses/index.ts";
import { type Adam, clipGradientNorm } from "./optimizer.ts";

export interface TrainBatch {
  /** [batch, channels, inLength] */
  input: Sequence;
  /** [batch, channels, inLength - receptiveField + 1]: what the model should output. */
  target: Floats;
}

export interface StepResult {
  loss: number;
  /** Gradient norm before clipping. */
  gradientNorm: number;
}

const outputGradients = new WeakMap<Model, Floats>();

/**
 * One optimisation step: zero gradients, forward, loss, backward, optional gradient-norm clipping, Adam.
 * The loss gradient buffer is kept per model, so steady-state training allocates nothing here.
 */
export function trainStep(
  model: Model,
  loss: Loss,
  optimizer: Adam,
  batch: TrainBatch,
  options: { clipNorm?: number } = {},
): StepResult {
  model.parameters.zeroGrads();
  const output = model.forward(batch.input);
  if (output.data.length !== batch.target.length) {
    throw new DeepspError(
      "train/shape",
      `${model.architecture} outputs ${output.data.length} samples per batch but the target has ${batch.target.length}`,
    );
  }
  const shape = { batch: output.batch, channels: output.channels, length: output.length };
  const value = loss.forward(output.data, batch.target, shape);
  const gradient = reuse(outputGradients.get(model), output.data.length, output.data);
  outputGradients.set(model, gradient);
  gradient.fill(0);
  loss.backward(gradient);
  model.backward({ ...output, data: gradient });
  const gradientNorm =
    options.clipNorm === undefined ? Number.NaN : clipGradientNorm(model.parameters, options.clipNorm);
  optimizer.step();
  return { loss: value, gradientNorm };
}
