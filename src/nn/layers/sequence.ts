import { DeepspError } from "../../core/errors.ts";
import type { Floats } from "../kernels/types.ts";

/** A batch of multichannel signals in one typed array, laid out [batch, channels, length] (row-major). */
export interface Sequence {
  readonly data: Floats;
  readonly batch: number;
  readonly channels: number;
  readonly length: number;
}

export function sequence(data: Floats, batch: number, channels: number, length: number): Sequence {
  if (data.length !== batch * channels * length) {
    throw new DeepspError(
      "model/shape",
      `sequence data has ${data.length} values, expected batch ${batch} x channels ${channels} x length ${length}`,
    );
  }
  return { data, batch, channels, length };
}

/** Throws a model/shape error unless the input has the channel count a layer expects. */
export function expectChannels(layer: string, input: Sequence, channels: number): void {
  if (input.channels !== channels) {
    throw new DeepspError(
      "model/shape",
      `${layer}: expected ${channels} input channel(s), got ${input.channels}`,
    );
  }
}

/**
 * Reuses `buffer` when it already has `size` values of the same float type as `like`, else allocates a new
 * one: layers keep their activations between steps, so a training loop with fixed batch shapes allocates
 * only on its first step.
 */
export function reuse(buffer: Floats | undefined, size: number, like: Floats): Floats {
  if (buffer !== undefined && buffer.length === size && buffer.constructor === like.constructor)
    return buffer;
  allocated += size;
  return like instanceof Float64Array ? new Float64Array(size) : new Float32Array(size);
}

let allocated = 0;

/** Floats `reuse` has allocated so far in this thread (the trainer measures a model's activation memory). */
export function allocatedFloats(): number {
  return allocated;
}

/** [batch, channels, length] -> [length, batch, channels] (for the time-major recurrent kernels). */
export function toTimeMajor(out: Floats, x: Floats, batch: number, channels: number, length: number): void {
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const row = (b * channels + c) * length;
      for (let t = 0; t < length; t++) out[(t * batch + b) * channels + c] = x[row + t]!;
    }
  }
}

/** [length, batch, channels] -> [batch, channels, length]. */
export function fromTimeMajor(out: Floats, x: Floats, batch: number, channels: number, length: number): void {
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const row = (b * channels + c) * length;
      for (let t = 0; t < length; t++) out[row + t] = x[(t * batch + b) * channels + c]!;
    }
  }
}
