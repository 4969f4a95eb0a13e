import type { WasmBuild } from "../../nn/kernels/wasm/module.ts";
import type { BpttOptions } from "../../train/trainer.ts";

/*
 * The shared memory between the trainer thread and its gradient workers. One SharedArrayBuffer per worker:
 *   control  Int32Array [CONTROL_INTS]: generation, phase, rows of this step's slice, done, error flag
 *   values   Float32Array [parameters]: the trainer's parameters, written before each forward phase
 *   grads    Float32Array [parameters]: the worker's gradients after its backward phase
 *   input    Float32Array [maxRows, channels, inLength]: the worker's slice of the batch
 *   output   Float32Array [maxRows, channels, length]: its model output (forward phase)
 *   dOutput  Float32Array [maxRows, channels, length]: d loss / d output for its slice (backward phase)
 *   error    bytes [ERROR_BYTES]: UTF-8 message when the error flag is set
 * A phase starts when the trainer bumps `generation` (Atomics.notify) and ends when the worker sets `done`.
 */

export const GENERATION = 0;
export const PHASE = 1;
export const ROWS = 2;
export const DONE = 3;
export const FAILED = 4;
export const CONTROL_INTS = 8;
export const ERROR_BYTES = 4096;

export const PHASE_FORWARD = 1;
export const PHASE_BACKWARD = 2;
export const PHASE_STOP = 3;

export interface WorkerSetup {
  modelConfig: unknown;
  bptt: BpttOptions | null;
  microBatch: number | null;
  /** The trainer thread's build of the wasm kernels: every thread sums in the same way. */
  wasmBuild: WasmBuild;
  parameters: number;
  maxRows: number;
  channels: number;
  inLength: number;
  length: number;
  buffer: SharedArrayBuffer;
}

export interface SharedViews {
  control: Int32Array;
  values: Float32Array;
  grads: Float32Array;
  input: Float32Array;
  output: Float32Array;
  dOutput: Float32Array;
  error: Uint8Array;
}

type Sizes = Pick<WorkerSetup, "parameters" | "maxRows" | "channels" | "inLength" | "length">;

function layout(sizes: Sizes): { floats: number[]; bytes: number } {
  const rows = sizes.maxRows * sizes.channels;
  const floats = [
    sizes.parameters,
    sizes.parameters,
    rows * sizes.inLength,
    rows * sizes.length,
    rows * sizes.length,
  ];
  const bytes = CONTROL_INTS * 4 + floats.reduce((sum, n) => sum + n * 4, 0) + ERROR_BYTES;
  return { floats, bytes };
}

export function sharedBytes(sizes: Sizes): number {
  return layout(sizes).bytes;
}

/** Views of one worker's buffer (the same on both sides). */
export function sharedViews(buffer: SharedArrayBuffer, sizes: Sizes): SharedViews {
  const { floats } = layout(sizes);
  let at = CONTROL_INTS * 4;
  const next = (n: number): Float32Array => {
    const view = new Float32Array(buffer, at, n);
    at += n * 4;
    return view;
  };
  const control = new Int32Array(buffer, 0, CONTROL_INTS);
  const [values, grads, input, output, dOutput] = floats.map(next) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  return { control, values, grads, input, output, dOutput, error: new Uint8Array(buffer, at, ERROR_BYTES) };
}
