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

/** Counts floats a model holds outside `reuse` (a fused kernel's wasm memory), as if `reuse` had allocated them. */
export function countAllocated(floats: number): void {
  allocated += floats;
}

/** Floats `reuse` has allocated so far in this thread (the trainer measures a model's activation memory). */
export function allocatedFloats(): number {
  return allocated;
}

/*
 * The two transposes below walk time in tiles of TILE steps: within a tile every (b, c) row is read (or
 * written) contiguously while the tile's TILE rows of the time-major side, batch * channels floats apart, stay
 * in cache. Element by element over whole rows, each access would land in a different cache line at large
 * batches (the LSTM-16 batch-256 row of `npm run bench -- training` is the workload this was tuned on).
 */
const TILE = 32;

/** [batch, channels, length] -> [length, batch, channels] (for the time-major recurrent kernels). */
export function toTimeMajor(out: Floats, x: Floats, batch: number, channels: number, length: number): void {
  const stride = batch * channels;
  for (let t0 = 0; t0 < length; t0 += TILE) {
    const t1 = Math.min(length, t0 + TILE);
    for (let r = 0; r < stride; r++) {
      const row = r * length;
      for (let t = t0; t < t1; t++) out[t * stride + r] = x[row + t]!;
    }
  }
}

/** [length, batch, channels] -> [batch, channels, length]. */
export function fromTimeMajor(out: Floats, x: Floats, batch: number, channels: number, length: number): void {
  const stride = batch * channels;
  for (let t0 = 0; t0 < length; t0 += TILE) {
    const t1 = Math.min(length, t0 + TILE);
    for (let r = 0; r < stride; r++) {
      const row = r * length;
      for (let t = t0; t < t1; t++) out[row + t] = x[t * stride + r]!;
    }
  }
}
