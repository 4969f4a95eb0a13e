/**
 * WebAssembly SIMD LSTM / GRU training kernels (assembly/recurrent.ts) behind the `Kernels` signatures of
 * ../js/lstm.ts and ../js/gru.ts. Arrays that are not all Float32Array go to the JS twins (the float64 gradient
 * checks run there). Gradients are added into, as the contract says.
 *
 * The operands are ordinary Float32Arrays, so each call copies them through the training scratch memory
 * (./scratch.ts) in windows of steps: copy a window in, run the time loop over it in one wasm call, copy it out.
 * A window's working set (~256 KiB) stays in L2 between the copy and the kernel, so the big arrays (gates alone
 * are 128 MiB for batch 256 x 2048 steps x hidden 16) are not also staged whole in wasm memory, which would add
 * a DRAM round trip and a memory that can never shrink. A window is 2 (batch 256) to ~40 (batch 16) steps of
 * real work per call, so the call and copy overhead stays small. The recurrent state carries from window to window
 * inside wasm; backward walks the windows from the last to the first, each window being one chunk of the
 * weight-gradient products.
 *
 * Inside wasm every state row is padded to hp = hidden rounded up to 4 floats (one f32x4 = four units of one
 * gate), and h / c have a leading slot holding the state before the window (assembly/recurrent.ts has the
 * layouts). When hidden is a multiple of 4 the copies are memcpys (TypedArray.set); otherwise rows are copied
 * one float at a time (small test shapes). The gate activations are fast approximations (errors ~1e-7),
 * allowed because these kernels only train. Nothing is allocated once warm: the scratch memory is a stack and
 * the views the copies need are cached (they repeat from call to call when the shapes do).
 */
import * as jsGru from "../js/gru.ts";
import * as jsLstm from "../js/lstm.ts";
import type {
  Floats,
  GruBackwardArgs,
  GruForwardArgs,
  LstmBackwardArgs,
  LstmForwardArgs,
  RecurrentShape,
} from "../types.ts";
import { type WasmScratch, wasmScratch } from "./scratch.ts";

/** Floats a window may hold (its state, gates, saved values and gradient rows): 256 KiB, half of L2. */
const WINDOW_FLOATS = 65536;

/** Gate-block maps of rnnAddGradient: LSTM i, f, g, o in order; GRU hidden side r, z, hn; input side r, z, n. */
const LSTM_MAP = 0x3210;
const GRU_HIDDEN_MAP = 0x210;
const GRU_INPUT_MAP = 0x310;

const is32 = (a: Floats | null): a is Float32Array | null => a === null || a instanceof Float32Array;

const paddedHidden = (hidden: number): number => (hidden + 3) & ~3;

/** Steps per window, when one step needs `perStep` floats. */
const windowSteps = (steps: number, perStep: number): number =>
  Math.max(1, Math.min(steps, Math.floor(WINDOW_FLOATS / perStep)));

const sourceViews = new WeakMap<Float32Array, Map<number, Float32Array>>();

/** src[begin, end) without allocating once warm: the whole array, or a view cached per array and begin. */
function range(src: Float32Array, begin: number, end: number): Float32Array {
  if (begin === 0 && end === src.length) return src;
  let views = sourceViews.get(src);
  if (views === undefined) {
    views = new Map();
    sourceViews.set(src, views);
  }
  let v = views.get(begin);
  if (v === undefined || v.length !== end - begin) {
    v = src.subarray(begin, end);
    views.set(begin, v);
  }
  return v;
}

const heapViews: Float32Array[] = [];

/** A view of `length` floats of the memory at `address`, cached per `slot` (re-made after the memory grows). */
function heapView(s: WasmScratch, slot: number, address: number, length: number): Float32Array {
  const heap = s.heap;
  let v = heapViews[slot];
  if (v === undefined || v.buffer !== heap.buffer || v.byteOffset !== address || v.length !== length) {
    v = new Float32Array(heap.buffer, address, length);
    heapViews[slot] = v;
  }
  return v;
}

/** Rows [row0, row0 + rows) of src ([*, cols]; zeros for null) to rows of `stride` floats at `address`. */
function copyIn(
  s: WasmScratch,
  address: number,
  src: Float32Array | null,
  row0: number,
  rows: number,
  cols: number,
  stride: number,
): void {
  const heap = s.heap;
  const at = address >> 2;
  if (src === null) heap.fill(0, at, at + rows * stride);
  else if (cols === stride) heap.set(range(src, row0 * cols, (row0 + rows) * cols), at);
  else {
    for (let r = 0; r < rows; r++) {
      const from = (row0 + r) * cols;
      for (let k = 0; k < cols; k++) heap[at + r * stride + k] = src[from + k]!;
    }
  }
}

/** The inverse of copyIn: rows of `stride` floats at `address` to rows [row0, row0 + rows) of dst. */
function copyOut(
  s: WasmScratch,
  slot: number,
  address: number,
  dst: Float32Array,
  row0: number,
  rows: number,
  cols: number,
  stride: number,
): void {
  if (cols === stride) {
    dst.set(heapView(s, slot, address, rows * cols), row0 * cols);
    return;
  }
  const heap = s.heap;
  const at = address >> 2;
  for (let r = 0; r < rows; r++) {
    const to = (row0 + r) * cols;
    for (let k = 0; k < cols; k++) dst[to + k] = heap[at + r * stride + k]!;
  }
}

/** dst[r][k] += the padded rows at address (dh0 / dc0 from the carried gradients). */
function addOut(
  s: WasmScratch,
  address: number,
  dst: Float32Array,
  rows: number,
  cols: number,
  stride: number,
) {
  const heap = s.heap;
  const at = address >> 2;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) dst[r * cols + k] = dst[r * cols + k]! + heap[at + r * stride + k]!;
  }
}

/** Moves the last of `slots` state slots (the state after a window) to slot 0 (the state before the next). */
function carrySlot(s: WasmScratch, address: number, slots: number, state: number): void {
  const at = address >> 2;
  s.heap.copyWithin(at, at + slots * state, at + (slots + 1) * state);
}

/** Copies the raw weights in and packs them for the forward kernels; returns the packed block's address. */
function packForward(
  s: WasmScratch,
  wIh: Float32Array,
  wHh: Float32Array,
  bIh: Float32Array,
  bHh: Float32Array,
  shape: RecurrentShape,
  hp: number,
  gru: number,
): number {
  const { inputs, hidden } = shape;
  const g = gru ? 3 : 4;
  const w = s.reserve(16 * (hp >> 2) * (1 + inputs + hidden));
  const wIhA = s.put(range(wIh, 0, g * hidden * inputs));
  const wHhA = s.put(range(wHh, 0, g * hidden * hidden));
  const bIhA = s.put(range(bIh, 0, g * hidden));
  const bHhA = s.put(range(bHh, 0, g * hidden));
  s.exports["rnnPackForward"]!(w, wIhA, wHhA, bIhA, bHhA, inputs, hidden, hp, gru);
  return w;
}

/** LSTM forward (see ../types.ts): h, c [steps, batch, hidden], gates [steps, batch, 4 hidden]. */
export function lstmForward(args: LstmForwardArgs, shape: RecurrentShape): void {
  const { h, c, gates, x, wIh, wHh, bIh, bHh, h0, c0 } = args;
  if (
    !(h instanceof Float32Array && c instanceof Float32Array && gates instanceof Float32Array) ||
    !(x instanceof Float32Array && wIh instanceof Float32Array && wHh instanceof Float32Array) ||
    !(bIh instanceof Float32Array && bHh instanceof Float32Array && is32(h0) && is32(c0))
  ) {
    jsLstm.lstmForward(args, shape);
    return;
  }
  const { steps, batch, inputs, hidden } = shape;
  if (steps === 0 || batch === 0) return;
  const hp = paddedHidden(hidden);
  const state = batch * hp;
  const window = windowSteps(steps, 6 * state);
  const s = wasmScratch();
  const mark = s.mark();
  const w = packForward(s, wIh, wHh, bIh, bHh, shape, hp, 0);
  const xA = s.put(range(x, 0, steps * batch * inputs));
  // h, c: window + 1 slots (slot 0: the state before the window); gates [window][batch][4][hp].
  const hA = s.reserve((window + 1) * state);
  const cA = s.reserve((window + 1) * state);
  const gA = s.reserve(window * 4 * state);
  const pre = s.reserve(8 * hp);
  copyIn(s, hA, h0, 0, batch, hidden, hp);
  copyIn(s, cA, c0, 0, batch, hidden, hp);
  for (let t0 = 0; t0 < steps; t0 += window) {
    const n = Math.min(window, steps - t0);
    const slot = n === window ? 0 : 3;
    s.exports["rnnLstmForward"]!(
      w,
      xA + 4 * t0 * batch * inputs,
      hA,
      cA,
      gA,
      pre,
      n,
      batch,
      inputs,
      hidden,
      hp,
    );
    copyOut(s, slot, hA + 4 * state, h, t0 * batch, n * batch, hidden, hp);
    copyOut(s, slot + 1, cA + 4 * state, c, t0 * batch, n * batch, hidden, hp);
    copyOut(s, slot + 2, gA, gates, 4 * t0 * batch, 4 * n * batch, hidden, hp);
    carrySlot(s, hA, n, state);
    carrySlot(s, cA, n, state);
  }
  s.release(mark);
}

/** GRU forward (see ../types.ts): h, hn [steps, batch, hidden], gates [steps, batch, 3 hidden]. */
export function gruForward(args: GruForwardArgs, shape: RecurrentShape): void {
  const { h, gates, hn, x, wIh, wHh, bIh, bHh, h0 } = args;
  if (
    !(h instanceof Float32Array && hn instanceof Float32Array && gates instanceof Float32Array) ||
    !(x instanceof Float32Array && wIh instanceof Float32Array && wHh instanceof Float32Array) ||
    !(bIh instanceof Float32Array && bHh instanceof Float32Array && is32(h0))
  ) {
    jsGru.gruForward(args, shape);
    return;
  }
  const { steps, batch, inputs, hidden } = shape;
  if (steps === 0 || batch === 0) return;
  const hp = paddedHidden(hidden);
  const state = batch * hp;
  const window = windowSteps(steps, 5 * state);
  const s = wasmScratch();
  const mark = s.mark();
  const w = packForward(s, wIh, wHh, bIh, bHh, shape, hp, 1);
  const xA = s.put(range(x, 0, steps * batch * inputs));
  const hA = s.reserve((window + 1) * state);
  const gA = s.reserve(window * 3 * state);
  const hnA = s.reserve(window * state);
  const pre = s.reserve(8 * hp);
  copyIn(s, hA, h0, 0, batch, hidden, hp);
  for (let t0 = 0; t0 < steps; t0 += window) {
    const n = Math.min(window, steps - t0);
    const slot = n === window ? 0 : 3;
    s.exports["rnnGruForward"]!(
      w,
      xA + 4 * t0 * batch * inputs,
      hA,
      gA,
      hnA,
      pre,
      n,
      batch,
      inputs,
      hidden,
      hp,
    );
    copyOut(s, slot, hA + 4 * state, h, t0 * batch, n * batch, hidden, hp);
    copyOut(s, slot + 1, hnA, hn, t0 * batch, n * batch, hidden, hp);
    copyOut(s, slot + 2, gA, gates, 3 * t0 * batch, 3 * n * batch, hidden, hp);
    carrySlot(s, hA, n, state);
  }
  s.release(mark);
}

/**
 * Addresses both backward kernels use (module-level: nothing allocated per call): packed backward weights, x,
 * dx, the gradient rows of one window, float64 weight-gradient accumulators (transposed, padded), carried state
 * gradients, and the window's dh / h slots (h_{t-1} of each step) / gates / c or hn.
 */
const bw = {
  wH: 0,
  wIT: 0,
  x: 0,
  dx: 0,
  d: 0,
  accH: 0,
  accI: 0,
  accB: 0,
  carry: 0,
  dh: 0,
  h: 0,
  g: 0,
  c: 0,
};

/** Reserves and fills `bw` (except c, which is cell-specific) for a window of `window` steps. */
function prepareBackward(
  s: WasmScratch,
  x: Float32Array,
  wIh: Float32Array,
  wHh: Float32Array,
  dx: Float32Array | null,
  shape: RecurrentShape,
  hp: number,
  window: number,
  gru: number,
): void {
  const { steps, batch, inputs, hidden } = shape;
  const g = gru ? 3 : 4;
  const state = batch * hp;
  const rows = steps * batch * inputs;
  bw.wH = s.reserve(g * hp * hp);
  bw.wIT = s.reserve(4 * hp * inputs);
  const wIhA = s.put(range(wIh, 0, g * hidden * inputs));
  const wHhA = s.put(range(wHh, 0, g * hidden * hidden));
  s.exports["rnnPackBackward"]!(bw.wH, bw.wIT, wIhA, wHhA, inputs, hidden, hp, gru);
  bw.x = s.put(range(x, 0, rows));
  bw.dx = dx ? s.put(range(dx, 0, rows)) : 0;
  bw.d = s.reserve(window * 4 * state);
  // Float64 (two floats each): accH [hidden][4 hp], accI [inputs][4 hp], accB [4 hp].
  bw.accH = s.reserve(2 * hidden * 4 * hp, true);
  bw.accI = s.reserve(2 * inputs * 4 * hp, true);
  bw.accB = s.reserve(2 * 4 * hp, true);
  // Padding lanes of the saved values and gradients must be zero: reserve zeroes them when there are any.
  const pad = hp !== shape.hidden;
  bw.carry = s.reserve(2 * state, true);
  bw.dh = s.reserve(window * state, pad);
  bw.h = s.reserve(window * state, pad);
  bw.g = s.reserve(window * g * state, pad);
}

/** Copies one window's dh, h_{t-1} slots and gates in (steps [t0, t0 + n)). */
function windowIn(
  s: WasmScratch,
  dh: Float32Array,
  h: Float32Array,
  h0: Float32Array | null,
  gates: Float32Array,
  g: number,
  t0: number,
  n: number,
  batch: number,
  hidden: number,
  hp: number,
): void {
  const state = batch * hp;
  copyIn(s, bw.dh, dh, t0 * batch, n * batch, hidden, hp);
  copyIn(s, bw.g, gates, g * t0 * batch, g * n * batch, hidden, hp);
  // Slot j holds h_{t0 + j - 1}: h0 (or zeros) before step 0.
  if (t0 > 0) copyIn(s, bw.h, h, (t0 - 1) * batch, n * batch, hidden, hp);
  else {
    copyIn(s, bw.h, h0, 0, batch, hidden, hp);
    if (n > 1) copyIn(s, bw.h + 4 * state, h, 0, (n - 1) * batch, hidden, hp);
  }
}

/** Adds the accumulators into the gradients; copies dx out. */
function finishBackward(
  s: WasmScratch,
  dx: Float32Array | null,
  dwIh: Float32Array,
  dwHh: Float32Array,
  dbIh: Float32Array,
  dbHh: Float32Array,
  shape: RecurrentShape,
  hp: number,
  gru: number,
): void {
  const { steps, batch, inputs, hidden } = shape;
  const g = gru ? 3 : 4;
  const rows = steps * batch * inputs;
  if (dx) copyOut(s, 6, bw.dx, dx, 0, 1, rows, rows);
  addGradient(s, 7, dwHh, bw.accH, g, hidden, hidden, hp, gru ? GRU_HIDDEN_MAP : LSTM_MAP);
  addGradient(s, 8, dwIh, bw.accI, g, hidden, inputs, hp, gru ? GRU_INPUT_MAP : LSTM_MAP);
  addGradient(s, 9, dbHh, bw.accB, g, hidden, 1, hp, gru ? GRU_HIDDEN_MAP : LSTM_MAP);
  addGradient(s, 10, dbIh, bw.accB, g, hidden, 1, hp, gru ? GRU_INPUT_MAP : LSTM_MAP);
}

/** Adds a float64 accumulator into a PyTorch-layout gradient: copy in, add in wasm, copy out. */
function addGradient(
  s: WasmScratch,
  slot: number,
  dst: Float32Array,
  acc: number,
  gates: number,
  hidden: number,
  cols: number,
  hp: number,
  map: number,
): void {
  const length = gates * hidden * cols;
  const at = s.put(range(dst, 0, length));
  s.exports["rnnAddGradient"]!(at, acc, gates, hidden, cols, hp, 4 * hp, map);
  copyOut(s, slot, at, dst, 0, 1, length, length);
}

/** LSTM backpropagation through time (see ../types.ts): adds into dx, dwIh, dwHh, dbIh, dbHh, dh0, dc0. */
export function lstmBackward(args: LstmBackwardArgs, shape: RecurrentShape): void {
  const { dx, dwIh, dwHh, dbIh, dbHh, dh0, dc0, dh, dhT, dcT, x, wIh, wHh, h, c, gates, h0, c0 } = args;
  if (
    !(is32(dx) && dwIh instanceof Float32Array && dwHh instanceof Float32Array) ||
    !(dbIh instanceof Float32Array && dbHh instanceof Float32Array && is32(dh0) && is32(dc0)) ||
    !(dh instanceof Float32Array && is32(dhT) && is32(dcT) && x instanceof Float32Array) ||
    !(wIh instanceof Float32Array && wHh instanceof Float32Array && h instanceof Float32Array) ||
    !(c instanceof Float32Array && gates instanceof Float32Array && is32(h0) && is32(c0))
  ) {
    jsLstm.lstmBackward(args, shape);
    return;
  }
  const { steps, batch, inputs, hidden } = shape;
  const hp = paddedHidden(hidden);
  const state = batch * hp;
  // Per step: dh, h, c, 4 gates, 4 gradient rows.
  const window = windowSteps(steps, 11 * state);
  const s = wasmScratch();
  const mark = s.mark();
  prepareBackward(s, x, wIh, wHh, dx, shape, hp, window, 0);
  // c: window + 1 slots, slot j = c_{t0 + j - 1}.
  bw.c = s.reserve((window + 1) * state, hp !== hidden);
  copyIn(s, bw.carry, dhT, 0, batch, hidden, hp);
  copyIn(s, bw.carry + 4 * state, dcT, 0, batch, hidden, hp);
  for (let t1 = steps; t1 > 0; t1 -= window) {
    const t0 = Math.max(0, t1 - window);
    const n = t1 - t0;
    windowIn(s, dh, h, h0, gates, 4, t0, n, batch, hidden, hp);
    if (t0 > 0) copyIn(s, bw.c, c, (t0 - 1) * batch, (n + 1) * batch, hidden, hp);
    else {
      copyIn(s, bw.c, c0, 0, batch, hidden, hp);
      copyIn(s, bw.c + 4 * state, c, 0, n * batch, hidden, hp);
    }
    s.exports["rnnLstmBackward"]!(
      bw.d,
      n,
      bw.carry,
      bw.dh,
      bw.x + 4 * t0 * batch * inputs,
      bw.h,
      bw.c,
      bw.g,
      bw.wH,
      bw.wIT,
      bw.dx === 0 ? 0 : bw.dx + 4 * t0 * batch * inputs,
      bw.accH,
      bw.accI,
      bw.accB,
      n,
      batch,
      inputs,
      hidden,
      hp,
    );
  }
  finishBackward(s, dx, dwIh, dwHh, dbIh, dbHh, shape, hp, 0);
  if (dh0) addOut(s, bw.carry, dh0, batch, hidden, hp);
  if (dc0) addOut(s, bw.carry + 4 * state, dc0, batch, hidden, hp);
  s.release(mark);
}

/** GRU backpropagation through time (see ../types.ts): adds into dx, dwIh, dwHh, dbIh, dbHh, dh0. */
export function gruBackward(args: GruBackwardArgs, shape: RecurrentShape): void {
  const { dx, dwIh, dwHh, dbIh, dbHh, dh0, dh, dhT, x, wIh, wHh, h, gates, hn, h0 } = args;
  if (
    !(is32(dx) && dwIh instanceof Float32Array && dwHh instanceof Float32Array) ||
    !(dbIh instanceof Float32Array && dbHh instanceof Float32Array && is32(dh0)) ||
    !(dh instanceof Float32Array && is32(dhT) && x instanceof Float32Array) ||
    !(wIh instanceof Float32Array && wHh instanceof Float32Array && h instanceof Float32Array) ||
    !(gates instanceof Float32Array && hn instanceof Float32Array && is32(h0))
  ) {
    jsGru.gruBackward(args, shape);
    return;
  }
  const { steps, batch, inputs, hidden } = shape;
  const hp = paddedHidden(hidden);
  const state = batch * hp;
  // Per step: dh, h, hn, 3 gates, 4 gradient rows.
  const window = windowSteps(steps, 10 * state);
  const s = wasmScratch();
  const mark = s.mark();
  prepareBackward(s, x, wIh, wHh, dx, shape, hp, window, 1);
  // c holds hn here: [window][batch][hp].
  bw.c = s.reserve(window * state, hp !== hidden);
  copyIn(s, bw.carry, dhT, 0, batch, hidden, hp);
  for (let t1 = steps; t1 > 0; t1 -= window) {
    const t0 = Math.max(0, t1 - window);
    const n = t1 - t0;
    windowIn(s, dh, h, h0, gates, 3, t0, n, batch, hidden, hp);
    copyIn(s, bw.c, hn, t0 * batch, n * batch, hidden, hp);
    s.exports["rnnGruBackward"]!(
      bw.d,
      n,
      bw.carry,
      bw.dh,
      bw.x + 4 * t0 * batch * inputs,
      bw.h,
      bw.g,
      bw.c,
      bw.wH,
      bw.wIT,
      bw.dx === 0 ? 0 : bw.dx + 4 * t0 * batch * inputs,
      bw.accH,
      bw.accI,
      bw.accB,
      n,
      batch,
      inputs,
      hidden,
      hp,
    );
  }
  finishBackward(s, dx, dwIh, dwHh, dbIh, dbHh, shape, hp, 1);
  if (dh0) addOut(s, bw.carry, dh0, batch, hidden, hp);
  s.release(mark);
}
