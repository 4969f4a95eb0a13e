/**
 * RNN training throughput, JS twins vs wasm kernels, in the same process. Same workloads as ./throughput.ts
 * (RnnModel, MSE + Adam, sequences of 2048 samples). The machine is shared and noisy, so the backends alternate
 * step by step, steps are timed in CPU time of this process (other processes' time slices do not count; the
 * work is single-threaded), and each backend reports its median. Also reports the share of a train step spent
 * inside the recurrent kernels (wrappers and copies included).
 * Run: node --import tsx bench/train/recurrent-kernels.ts [filter] [steps]
 */
import { Rng } from "../../src/core/rng.ts";
import { jsKernels, type Kernels, useKernels, wasmKernels } from "../../src/nn/kernels/index.ts";
import { RnnModel } from "../../src/nn/models/rnn.ts";
import { enableRelaxedSimd } from "../../src/node/wasm.ts";
import { createLoss } from "../../src/train/losses/index.ts";
import { Adam } from "../../src/train/optimizer.ts";
import { trainStep } from "../../src/train/step.ts";

// As the CLI: the relaxed-SIMD build of the kernels (src/node/wasm.ts).
enableRelaxedSimd();

const filter = process.argv[2] ?? "";
const steps = Number(process.argv[3] ?? 7);
const LENGTH = 2048;

/** CPU milliseconds of this process (user + system): robust against other processes sharing the cores. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** `base` with the four recurrent kernels timed (CPU milliseconds into `spent`). */
function timed(base: Kernels, spent: { ms: number }): Kernels {
  const wrap =
    <A, S>(f: (a: A, s: S) => void) =>
    (a: A, s: S) => {
      const start = cpuMs();
      f(a, s);
      spent.ms += cpuMs() - start;
    };
  return {
    ...base,
    lstmForward: wrap(base.lstmForward),
    lstmBackward: wrap(base.lstmBackward),
    gruForward: wrap(base.gruForward),
    gruBackward: wrap(base.gruBackward),
  };
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

for (const batch of [16, 256]) {
  for (const [cell, hidden] of [
    ["lstm", 16],
    ["lstm", 32],
    ["gru", 16],
  ] as const) {
    const name = `${cell}${hidden} b${batch}`;
    if (!name.includes(filter)) continue;
    const rng = new Rng(1);
    const input = Float32Array.from({ length: batch * LENGTH }, () => 0.3 * rng.normal());
    const target = Float32Array.from({ length: batch * LENGTH }, () => 0.3 * rng.normal());
    const data = { input: { data: input, batch, channels: 1, length: LENGTH }, target };
    const runs = [jsKernels, wasmKernels].map((backend) => {
      const model = new RnnModel({ cell, hidden });
      const spent = { ms: 0 };
      return {
        backend,
        model,
        optimizer: new Adam(model.parameters),
        kernels: timed(backend, spent),
        spent,
        times: [] as number[],
        inside: [] as number[],
      };
    });
    const loss = createLoss({ type: "mse" });
    for (let step = 0; step < steps + 2; step++) {
      for (const run of runs) {
        useKernels(run.kernels);
        run.spent.ms = 0;
        const start = cpuMs();
        trainStep(run.model, loss, run.optimizer, data);
        const ms = cpuMs() - start;
        if (step >= 2) {
          run.times.push(ms);
          run.inside.push(run.spent.ms / ms);
        }
      }
    }
    useKernels(null);
    const [js, wasm] = runs.map((run) => ({
      rate: (batch * LENGTH) / (median(run.times) / 1000),
      inside: median(run.inside),
    }));
    console.log(
      `${name.padEnd(10)} js ${js!.rate.toFixed(0).padStart(8)} samples/s (${(100 * js!.inside).toFixed(0)}% in rnn kernels)` +
        `  wasm ${wasm!.rate.toFixed(0).padStart(8)} samples/s (${(100 * wasm!.inside).toFixed(0)}% in rnn kernels)` +
        `  ${(wasm!.rate / js!.rate).toFixed(2)}x`,
    );
  }
}
