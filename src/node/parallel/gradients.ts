import { once } from "node:events";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { DeepspError } from "../../core/errors.ts";
import type { Floats } from "../../nn/kernels/types.ts";
import { trainingWasmBuild } from "../../nn/kernels/wasm/module.ts";
import { reuse } from "../../nn/layers/sequence.ts";
import {
  BatchLoss,
  GradientComputer,
  type GradientSource,
  type GradientSourceSetup,
  ModelPasses,
} from "../../train/trainer.ts";
import {
  DONE,
  FAILED,
  GENERATION,
  PHASE,
  PHASE_BACKWARD,
  PHASE_FORWARD,
  PHASE_STOP,
  ROWS,
  type SharedViews,
  sharedBytes,
  sharedViews,
  type WorkerSetup,
} from "./protocol.ts";

/*
 * Data-parallel gradients over worker threads: each step splits the batch into `threads` slices of whole
 * windows; this thread runs slice 0 and each worker one other slice, forward then backward, in lock step
 * (shared memory + Atomics, no messages). The loss is taken on the whole batch's output in between, exactly as
 * the single-threaded GradientComputer does, so any loss works (ESR, spectral) and the gradient is the same
 * sum, only added in a different order. Workers are started once per training run (~0.3 s each).
 */

/** tsx's loader is per thread: a worker entry has to register it before importing TypeScript. */
const WORKER_BOOT = `import { register } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))};
register();
await import(${JSON.stringify(new URL("./worker.ts", import.meta.url).href)});`;

interface GradientWorker {
  worker: Worker;
  views: SharedViews;
  rows: number;
}

/** Threads that data-parallel training may use here: one per core. */
export function defaultThreads(): number {
  return availableParallelism();
}

/**
 * A gradient source using `threads` threads (this one included). One thread, or a float64 model (gradient
 * checks), gives the plain GradientComputer.
 */
export async function createParallelGradients(
  setup: GradientSourceSetup,
  threads: number,
): Promise<GradientSource> {
  if (!Number.isInteger(threads) || threads < 1)
    throw new DeepspError("options/invalid", `threads must be a whole number >= 1, got ${threads}`);
  const count = Math.min(threads, setup.maxBatch);
  if (count === 1 || setup.model.parameters.floatType !== "float32")
    return new GradientComputer(setup.model, setup.loss, setup.bptt, setup.microBatch);
  const sizes = {
    parameters: setup.model.parameters.count,
    maxRows: Math.ceil(setup.maxBatch / count),
    channels: setup.channels,
    inLength: setup.inLength,
    length: setup.length,
  };
  const workers: GradientWorker[] = [];
  try {
    for (let i = 1; i < count; i++) {
      const buffer = new SharedArrayBuffer(sharedBytes(sizes));
      const data: WorkerSetup = {
        ...sizes,
        modelConfig: setup.model.toConfig(),
        bptt: setup.bptt,
        microBatch: setup.microBatch,
        wasmBuild: trainingWasmBuild(),
        buffer,
      };
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(WORKER_BOOT)}`), {
        workerData: data,
      });
      workers.push({ worker, views: sharedViews(buffer, sizes), rows: 0 });
      const [message] = (await Promise.race([once(worker, "message"), once(worker, "error")])) as [unknown];
      if (message !== "ready") throw message;
      worker.unref();
    }
  } catch (error) {
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
    throw new DeepspError(
      "train/worker",
      `could not start a gradient worker: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return new ParallelGradients(setup, workers);
}

class ParallelGradients implements GradientSource {
  private readonly passes: ModelPasses;
  private full: Floats | undefined;
  private readonly batchLoss: BatchLoss;

  constructor(
    private readonly setup: GradientSourceSetup,
    private readonly workers: GradientWorker[],
  ) {
    this.passes = new ModelPasses(setup.model, setup.bptt, setup.microBatch);
    this.batchLoss = new BatchLoss(setup.loss, setup.model);
  }

  compute(input: Floats, target: Floats, size: number, channels: number, length: number): number {
    const { model } = this.setup;
    if (size > this.setup.maxBatch || channels !== this.setup.channels || length !== this.setup.length) {
      throw new DeepspError(
        "train/shape",
        `parallel gradients were set up for ${this.setup.maxBatch} x ${this.setup.channels} x ${this.setup.length}, got ${size} x ${channels} x ${length}`,
      );
    }
    const inRow = channels * (input.length / (size * channels));
    const outRow = channels * length;
    // Slice sizes as equal as possible, whole windows; this thread's (slice 0) is never the smaller one.
    const slices = this.workers.length + 1;
    const own = Math.ceil(size / slices);
    for (let i = 0; i < this.workers.length; i++) {
      this.workers[i]!.rows = Math.floor(size / slices) + (i + 1 < size % slices ? 1 : 0);
    }

    // Forward: the workers on their slices with these parameters, this thread on slice 0.
    let row = own;
    for (const w of this.workers) {
      w.views.values.set(model.parameters.values);
      w.views.input.set(input.subarray(row * inRow, (row + w.rows) * inRow));
      row += w.rows;
      start(w, PHASE_FORWARD);
    }
    const ownOutput = this.passes.forward(input.subarray(0, own * inRow), own, channels, length);
    this.full = reuse(this.full, size * outRow, ownOutput);
    this.full.set(ownOutput);
    row = own;
    for (const w of this.workers) {
      finish(w);
      this.full.set(w.views.output.subarray(0, w.rows * outRow), row * outRow);
      row += w.rows;
    }

    const value = this.batchLoss.compute(this.full, target, { batch: size, channels, length });
    if (!Number.isFinite(value)) return value;
    const gradient = this.batchLoss.gradient;

    // Backward: each slice's output gradient; then the workers' parameter gradients are added to ours.
    row = own;
    for (const w of this.workers) {
      w.views.dOutput.set(gradient.subarray(row * outRow, (row + w.rows) * outRow));
      row += w.rows;
      start(w, PHASE_BACKWARD);
    }
    this.passes.backward(gradient.subarray(0, own * outRow), own, channels, length);
    const grads = model.parameters.grads;
    for (const w of this.workers) {
      finish(w);
      if (w.rows === 0) continue;
      const theirs = w.views.grads;
      for (let i = 0; i < grads.length; i++) grads[i] = grads[i]! + theirs[i]!;
    }
    return value;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async ({ worker, views }) => {
        worker.ref(); // unref'd while idle so a forgotten close cannot keep the process alive
        const exited = once(worker, "exit");
        Atomics.store(views.control, PHASE, PHASE_STOP);
        Atomics.add(views.control, GENERATION, 1);
        Atomics.notify(views.control, GENERATION);
        await exited;
      }),
    );
  }
}

function start(w: GradientWorker, phase: number): void {
  const { control } = w.views;
  Atomics.store(control, ROWS, w.rows);
  Atomics.store(control, PHASE, phase);
  Atomics.store(control, DONE, 0);
  Atomics.add(control, GENERATION, 1);
  Atomics.notify(control, GENERATION);
}

/** Blocks until the worker's phase is done; rethrows its error. */
function finish(w: GradientWorker): void {
  const { control } = w.views;
  while (Atomics.load(control, DONE) === 0) Atomics.wait(control, DONE, 0);
  if (Atomics.load(control, FAILED) !== 0) {
    Atomics.store(control, FAILED, 0);
    const end = w.views.error.indexOf(0);
    const message = new TextDecoder().decode(w.views.error.slice(0, end < 0 ? undefined : end));
    throw new DeepspError("train/worker", `a gradient worker failed: ${message}`);
  }
}
