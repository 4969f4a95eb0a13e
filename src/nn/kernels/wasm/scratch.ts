import type { Floats } from "../types.ts";
import { instantiateWasmKernels, trainingWasmBuild, type WasmBuild, type WasmExports } from "./module.ts";

/*
 * Training's wasm memory: the training kernels take ordinary Float32Arrays (the layers own their tensors), so a
 * wasm kernel copies its operands into this memory, runs, and copies its outputs back. The copies are O(n)
 * against the kernels' O(n * channels) work. The memory is a stack: a kernel marks the top, reserves what it
 * needs, and releases back to the mark when done, so nothing is allocated once the memory has grown to the
 * largest call (growing detaches old views, so addresses, never views, are kept across a reserve).
 */

const PAGE = 65536;

/** Floats of assembly/fastmath.ts's constant table (FAST_MATH_TABLE_BYTES / 4). */
const FAST_MATH_TABLE_FLOATS = 16;

export class WasmScratch {
  readonly exports: WasmExports;
  readonly build: WasmBuild;
  private readonly memory: WebAssembly.Memory;
  private floats: Float32Array;
  /** Byte address of the first free byte; address 0 stands for "none", so the stack starts at 16. */
  private top = 16;
  private readonly base: number;

  constructor(initialBytes = 1 << 20, build: WasmBuild = trainingWasmBuild()) {
    const pages = Math.ceil(initialBytes / PAGE);
    // 65536 pages = 4 GiB, the wasm32 limit.
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: 65536 });
    this.exports = instantiateWasmKernels(this.memory, build);
    this.build = build;
    this.floats = new Float32Array(this.memory.buffer);
    // The fast exp's constants (assembly/fastmath.ts fastMathTable) stay below everything else.
    this.exports.fastMathTable!(this.reserve(FAST_MATH_TABLE_FLOATS));
    this.base = this.top;
  }

  /** Releases everything reserved (but the constant table). */
  reset(): void {
    this.top = this.base;
  }

  /** The memory as floats (a fresh view after growth: take it after the last reserve of a call). */
  get heap(): Float32Array {
    if (this.floats.buffer !== this.memory.buffer) this.floats = new Float32Array(this.memory.buffer);
    return this.floats;
  }

  /** Bytes the memory has grown to. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  /** Reserves `length` floats, 16-byte aligned; returns the byte address. Zeroed only when `zero`. */
  reserve(length: number, zero = false): number {
    const address = this.top;
    const end = address + Math.ceil((length * 4) / 16) * 16;
    if (end > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
    }
    this.top = end;
    if (zero) this.heap.fill(0, address >> 2, (address >> 2) + length);
    return address;
  }

  /** Reserves room for `source[0, length)` and copies it in; returns the byte address. */
  put(source: Floats, length = source.length): number {
    const address = this.reserve(length);
    const heap = this.heap;
    if (source instanceof Float32Array)
      heap.set(source.length === length ? source : source.subarray(0, length), address >> 2);
    else for (let i = 0; i < length; i++) heap[(address >> 2) + i] = source[i]!;
    return address;
  }

  /** Copies `length` floats at `address` into `target[0, length)`. */
  get(address: number, target: Floats, length = target.length): void {
    const view = this.heap.subarray(address >> 2, (address >> 2) + length);
    if (target instanceof Float32Array) target.set(view);
    else for (let i = 0; i < length; i++) target[i] = view[i]!;
  }
}

const shared = new Map<WasmBuild, WasmScratch>();

/** The scratch memory of this thread (each Worker has its own) for the build training uses now. */
export function wasmScratch(): WasmScratch {
  const build = trainingWasmBuild();
  let scratch = shared.get(build);
  if (scratch === undefined) {
    scratch = new WasmScratch(1 << 20, build);
    shared.set(build, scratch);
  }
  return scratch;
}

/**
 * A fused kernel's own scratch memory (so that its addresses stay put between its forward and backward
 * passes) and its layout of that memory, a plan, for the last input length: kept while the length stays,
 * the batch fits and the training build is the same, laid out anew otherwise. `resize` adapts a kept plan
 * to a smaller batch.
 */
export class PlannedScratch<P> {
  private current: { scratch: WasmScratch; plan: P; inLength: number; capacity: number } | null = null;

  constructor(
    private readonly layout: (scratch: WasmScratch, batch: number, inLength: number) => P,
    private readonly resize: (plan: P, batch: number) => void,
  ) {}

  /** Makes the plan fit `batch` items of `inLength` frames; returns the floats newly reserved (0: kept). */
  prepare(batch: number, inLength: number): number {
    const build = trainingWasmBuild();
    let current = this.current;
    if (current !== null && current.scratch.build === build && current.inLength === inLength) {
      if (batch <= current.capacity) {
        this.resize(current.plan, batch);
        return 0;
      }
    }
    const scratch =
      current !== null && current.scratch.build === build ? current.scratch : new WasmScratch(1 << 20, build);
    scratch.reset();
    const before = scratch.mark();
    current = { scratch, plan: this.layout(scratch, batch, inLength), inLength, capacity: batch };
    this.current = current;
    return (scratch.mark() - before) / 4;
  }

  get scratch(): WasmScratch {
    return this.current!.scratch;
  }

  get plan(): P {
    return this.current!.plan;
  }
}
