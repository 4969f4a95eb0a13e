import * as jsActivations from "../js/activations.ts";
import * as jsGated from "../js/gated.ts";
import type { ActivationKind, Floats } from "../types.ts";
import { WASM_ACTIVATION_CODES } from "./module.ts";
import { type WasmScratch, wasmScratch } from "./scratch.ts";

/*
 * Wasm SIMD element-wise kernels (assembly/activations.ts) with the Kernels signatures, and the staging helpers
 * the conv and dense wrappers share. Float32Array operands are copied into the scratch memory a piece at a time
 * (a batch item, or CHUNK floats), so the staged copies stay in cache while the wasm runs, then the outputs are
 * copied back; anything else (the float64 gradient checks) runs the JS twin. tanh, sigmoid, silu and the gate
 * use a fast exp (assembly/activations.ts, within 2e-7 absolute of the exact functions, allowed for training);
 * the other kinds equal the JS twin bit for bit.
 */

/** Floats per staged chunk of an element-wise kernel: 64K floats = 256 KiB per operand, within L2. */
const CHUNK = 65536;

/** Cached views: array -> start -> length -> array.subarray(start, start + length). */
const views = new WeakMap<Float32Array, Map<number, Map<number, Float32Array>>>();

/**
 * array[start, start + length) as a Float32Array without allocating once warm: subarray views are cached per
 * array, start and length (training calls the kernels with the same tensors and shapes every step, and the
 * scratch stack hands out the same addresses). Staging a batch item or a chunk needs one view per copy, and
 * TypedArray.set from a view is a memcpy. The heap's views are keyed by the heap view, which changes when the
 * memory grows, so views of a detached buffer are never returned.
 */
export function slice(array: Float32Array, start: number, length: number): Float32Array {
  if (start === 0 && length === array.length) return array;
  let byStart = views.get(array);
  if (byStart === undefined) {
    byStart = new Map();
    views.set(array, byStart);
  }
  let byLength = byStart.get(start);
  if (byLength === undefined) {
    byLength = new Map();
    byStart.set(start, byLength);
  }
  let view = byLength.get(length);
  if (view === undefined) {
    view = array.subarray(start, start + length);
    byLength.set(length, view);
  }
  return view;
}

/** Copies source[start, start + length) into the scratch heap at byte address `at`. */
export function stage(
  heap: Float32Array,
  at: number,
  source: Float32Array,
  start: number,
  length: number,
): void {
  heap.set(slice(source, start, length), at >> 2);
}

/** Copies `length` floats at byte address `at` of the heap into target[start, ...). */
export function unstage(
  heap: Float32Array,
  at: number,
  target: Float32Array,
  start: number,
  length: number,
): void {
  target.set(slice(heap, at >> 2, length), start);
}

/** The module's functions this file and the conv / dense wrappers call (all numbers: addresses, sizes). */
export type Fn = (...args: number[]) => number;
export function fn(scratch: WasmScratch, name: string): Fn {
  return scratch.exports[name]!;
}

/** Whether a kernel operand runs in wasm (float32) rather than the JS twin; null (no bias, no dx) qualifies. */
export function isF32<T extends Floats | null>(a: T): a is T & (Float32Array | null) {
  return a === null || a instanceof Float32Array;
}

/** y[i] = f(x[i]) for i < count; y may be x. */
export function activationForward(
  y: Floats,
  x: Floats,
  kind: ActivationKind,
  count: number,
  alpha: number,
): void {
  if (!(isF32(y) && isF32(x))) {
    jsActivations.activationForward(y, x, kind, count, alpha);
    return;
  }
  if (kind === "identity") {
    if (y !== x) y.set(slice(x, 0, count));
    return;
  }
  const scratch = wasmScratch();
  const forward = fn(scratch, "activationForwardF32");
  const mark = scratch.mark();
  const size = Math.min(count, CHUNK);
  const at = scratch.reserve(size);
  const heap = scratch.heap;
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    stage(heap, at, x, start, n);
    forward(at, at, n, WASM_ACTIVATION_CODES[kind], alpha);
    unstage(heap, at, y, start, n);
  }
  scratch.release(mark);
}

/** dx[i] += dy[i] f'(x[i]); y = f(x) (tanh and sigmoid read it, the others x). */
export function activationBackward(
  dx: Floats,
  dy: Floats,
  x: Floats,
  y: Floats,
  kind: ActivationKind,
  count: number,
  alpha: number,
): void {
  if (!(isF32(dx) && isF32(dy) && isF32(x) && isF32(y))) {
    jsActivations.activationBackward(dx, dy, x, y, kind, count, alpha);
    return;
  }
  const scratch = wasmScratch();
  const backward = fn(scratch, "activationBackwardF32");
  const mark = scratch.mark();
  const size = Math.min(count, CHUNK);
  const dxAt = scratch.reserve(size);
  const dyAt = scratch.reserve(size);
  // Which of x and y the kind reads (the other is passed as the same address and never used).
  const needsX = kind !== "tanh" && kind !== "sigmoid" && kind !== "identity";
  const needsY = kind === "tanh" || kind === "sigmoid";
  const xAt = needsX ? scratch.reserve(size) : dyAt;
  const yAt = needsY ? scratch.reserve(size) : dyAt;
  const heap = scratch.heap;
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    stage(heap, dxAt, dx, start, n);
    stage(heap, dyAt, dy, start, n);
    if (needsX) stage(heap, xAt, x, start, n);
    if (needsY) stage(heap, yAt, y, start, n);
    backward(dxAt, dyAt, xAt, yAt, n, WASM_ACTIVATION_CODES[kind], alpha);
    unstage(heap, dxAt, dx, start, n);
  }
  scratch.release(mark);
}

/** y [batch, C, length] = tanh(x[:, :C]) sigmoid(x[:, C:]), one batch item staged at a time. */
export function gatedForward(y: Floats, x: Floats, batch: number, channels: number, length: number): void {
  if (!(isF32(y) && isF32(x))) {
    jsGated.gatedForward(y, x, batch, channels, length);
    return;
  }
  const scratch = wasmScratch();
  const forward = fn(scratch, "gatedForwardF32");
  const mark = scratch.mark();
  const half = channels * length;
  const xAt = scratch.reserve(2 * half);
  const yAt = scratch.reserve(half);
  const heap = scratch.heap;
  for (let b = 0; b < batch; b++) {
    stage(heap, xAt, x, 2 * b * half, 2 * half);
    forward(yAt, xAt, half, 1);
    unstage(heap, yAt, y, b * half, half);
  }
  scratch.release(mark);
}

/** dx [batch, 2C, length] += the gate's gradient. */
export function gatedBackward(
  dx: Floats,
  dy: Floats,
  x: Floats,
  batch: number,
  channels: number,
  length: number,
): void {
  if (!(isF32(dx) && isF32(dy) && isF32(x))) {
    jsGated.gatedBackward(dx, dy, x, batch, channels, length);
    return;
  }
  const scratch = wasmScratch();
  const backward = fn(scratch, "gatedBackwardF32");
  const mark = scratch.mark();
  const half = channels * length;
  const dxAt = scratch.reserve(2 * half);
  const xAt = scratch.reserve(2 * half);
  const dyAt = scratch.reserve(half);
  const heap = scratch.heap;
  for (let b = 0; b < batch; b++) {
    stage(heap, dxAt, dx, 2 * b * half, 2 * half);
    stage(heap, xAt, x, 2 * b * half, 2 * half);
    stage(heap, dyAt, dy, b * half, half);
    backward(dxAt, dyAt, xAt, half, 1);
    unstage(heap, dxAt, dx, 2 * b * half, 2 * half);
  }
  scratch.release(mark);
}
