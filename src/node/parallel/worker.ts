import { parentPort, workerData } from "node:worker_threads";
import { setTrainingWasmBuild } from "../../nn/kernels/wasm/module.ts";
import { createModel } from "../../nn/models/registry.ts";
import { ModelPasses } from "../../train/trainer.ts";
import { enableRelaxedSimd } from "../wasm.ts";
import {
  DONE,
  FAILED,
  GENERATION,
  PHASE,
  PHASE_BACKWARD,
  PHASE_FORWARD,
  PHASE_STOP,
  ROWS,
  sharedViews,
  type WorkerSetup,
} from "./protocol.ts";

/*
 * A gradient worker (started by ./gradients.ts): holds a replica of the model and, per training step, runs
 * the forward pass on its slice of the batch with the trainer's current parameters, then the backward pass
 * with the slice's output gradient, leaving its parameter gradients in shared memory. It blocks in
 * Atomics.wait between phases (no event loop work, no messages), so a phase starts within microseconds.
 */

const setup = workerData as WorkerSetup;
// The trainer thread's build of the wasm kernels (V8's flag is per process; each thread checks for itself).
if (setup.wasmBuild === "relaxed") enableRelaxedSimd();
setTrainingWasmBuild(setup.wasmBuild);
const views = sharedViews(setup.buffer, setup);
const model = createModel(setup.modelConfig);
const passes = new ModelPasses(model, setup.bptt, setup.microBatch);
const { control } = views;
let seen = Atomics.load(control, GENERATION);
parentPort!.postMessage("ready");

for (;;) {
  Atomics.wait(control, GENERATION, seen);
  seen = Atomics.load(control, GENERATION);
  const phase = Atomics.load(control, PHASE);
  if (phase === PHASE_STOP) break;
  const rows = Atomics.load(control, ROWS);
  try {
    if (rows > 0 && phase === PHASE_FORWARD) {
      model.parameters.values.set(views.values);
      const input = views.input.subarray(0, rows * setup.channels * setup.inLength);
      const output = passes.forward(input, rows, setup.channels, setup.length);
      views.output.set(output);
    } else if (rows > 0 && phase === PHASE_BACKWARD) {
      const dOutput = views.dOutput.subarray(0, rows * setup.channels * setup.length);
      passes.backward(dOutput, rows, setup.channels, setup.length);
      views.grads.set(model.parameters.grads);
    }
  } catch (error) {
    const text = new TextEncoder().encode(error instanceof Error ? error.message : String(error));
    views.error.fill(0);
    views.error.set(text.subarray(0, views.error.length));
    Atomics.store(control, FAILED, 1);
  }
  Atomics.store(control, DONE, 1);
  Atomics.notify(control, DONE);
}
