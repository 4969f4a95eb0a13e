/**
 * Conv / dense / gate training throughput of the models run layer by layer, JS twins vs wasm kernels, in the
 * same process (the machine is shared and noisy, so the backends alternate step by step and each reports its
 * median). Training runs these two models as fused kernels instead (./fused.ts, `npm run bench -- fused`); the
 * timing wrappers here are not wasmKernels, so the models take their layered path, which is what the fused
 * kernels replaced and what the other convolutional models run. Workloads as ./throughput.ts:
 * the gated TCN (causal, batch 16 x 8192) and MLP-256 (batch 4096), MSE + Adam. Also reports where a step's
 * time goes per kernel family and GFLOP/s of each (2 flops per multiply-add: conv forward 2 B T O (I/G) K,
 * backward data and backward weights the same each; dense 2 R I O per product).
 * Then, with "kernels" in the filter, each kernel alone on the workloads' shapes (best of 7 calls, JS twin and
 * wasm alternating, same arrays): what the kernels reach without the rest of a step around them.
 * Run: node --import tsx bench/train/conv-kernels.ts [filter: tcn | mlp | kernels] [steps] [backends: js,wasm]
 */
import { Rng } from "../../src/core/rng.ts";
import {
  type ConvShape,
  convOutLength,
  type DenseShape,
  jsKernels,
  type Kernels,
  useKernels,
  wasmKernels,
} from "../../src/nn/kernels/index.ts";
import { MlpModel } from "../../src/nn/models/mlp.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { TcnModel } from "../../src/nn/models/tcn.ts";
import { enableRelaxedSimd } from "../../src/node/wasm.ts";
import { createLoss } from "../../src/train/losses/index.ts";
import { Adam } from "../../src/train/optimizer.ts";
import { trainStep } from "../../src/train/step.ts";

// As the CLI: the relaxed-SIMD build of the kernels (src/node/wasm.ts).
enableRelaxedSimd();

const filter = process.argv[2] ?? "";
const steps = Number(process.argv[3] ?? 6);
const backends = (process.argv[4] ?? "js,wasm").split(",").map((n) => (n === "js" ? jsKernels : wasmKernels));

interface Spent {
  ms: Map<string, number>;
  flops: Map<string, number>;
}

const convFlops = (s: ConvShape) =>
  2 * s.batch * convOutLength(s) * s.outChannels * (s.inChannels / s.groups) * s.kernelSize;
const denseFlops = (s: DenseShape) => 2 * s.rows * s.inputs * s.outputs;

/** `base` with every conv / dense / activation / gate kernel timed into `spent` (by family and shape). */
function timed(base: Kernels, spent: Spent): Kernels {
  const add = (key: string, ms: number, flops: number) => {
    spent.ms.set(key, (spent.ms.get(key) ?? 0) + ms);
    spent.flops.set(key, (spent.flops.get(key) ?? 0) + flops);
  };
  const time =
    <T extends unknown[]>(name: string, f: (...a: T) => void, cost: (...a: T) => [string, number]) =>
    (...a: T) => {
      const start = performance.now();
      f(...a);
      const [tag, flops] = cost(...a);
      add(`${name} ${tag}`, performance.now() - start, flops);
    };
  const convTag = (s: ConvShape) => `${s.inChannels}->${s.outChannels} k${s.kernelSize}`;
  const denseTag = (s: DenseShape) => `${s.inputs}->${s.outputs}`;
  return {
    ...base,
    conv1dForward: time("convF", base.conv1dForward, (_y, _x, _w, _b, s) => [convTag(s), convFlops(s)]),
    conv1dBackwardData: time("convBD", base.conv1dBackwardData, (_dx, _dy, _w, s) => [
      convTag(s),
      convFlops(s),
    ]),
    conv1dBackwardWeights: time("convBW", base.conv1dBackwardWeights, (_dw, _db, _dy, _x, s) => [
      convTag(s),
      convFlops(s),
    ]),
    denseForward: time("denseF", base.denseForward, (_y, _x, _w, _b, s) => [denseTag(s), denseFlops(s)]),
    denseBackward: time("denseB", base.denseBackward, (dx, _dw, _db, _dy, _x, _w, s) => [
      denseTag(s),
      denseFlops(s) * (dx === null ? 1 : 2),
    ]),
    activationForward: time("actF", base.activationForward, (_y, _x, kind) => [kind, 0]),
    activationBackward: time("actB", base.activationBackward, (_dx, _dy, _x, _y, kind) => [kind, 0]),
    gatedForward: time("gateF", base.gatedForward, () => ["", 0]),
    gatedBackward: time("gateB", base.gatedBackward, () => ["", 0]),
  };
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const WORKLOADS: { name: string; make(): Model; batch: number; inLength: number }[] = [
  { name: "tcn16x10", make: () => new TcnModel({ padding: "causal" }), batch: 16, inLength: 8192 },
  { name: "mlp256", make: () => new MlpModel({ window: 256, hidden: [64, 64] }), batch: 4096, inLength: 256 },
];

for (const workload of WORKLOADS) {
  if (!workload.name.includes(filter)) continue;
  const probe = workload.make();
  const outLength = workload.inLength - probe.receptiveField + 1;
  const rng = new Rng(1);
  const input = Float32Array.from({ length: workload.batch * workload.inLength }, () => 0.3 * rng.normal());
  const target = Float32Array.from({ length: workload.batch * outLength }, () => 0.3 * rng.normal());
  const data = {
    input: { data: input, batch: workload.batch, channels: 1, length: workload.inLength },
    target,
  };
  const runs = backends.map((backend) => {
    const model = workload.make();
    const spent: Spent = { ms: new Map(), flops: new Map() };
    return {
      backend,
      model,
      optimizer: new Adam(model.parameters),
      kernels: timed(backend, spent),
      spent,
      times: [] as number[],
    };
  });
  const loss = createLoss({ type: "mse" });
  for (let step = 0; step < steps + 1; step++) {
    for (const run of runs) {
      useKernels(run.kernels);
      if (step === 1) {
        run.spent.ms.clear();
        run.spent.flops.clear();
      }
      const start = performance.now();
      trainStep(run.model, loss, run.optimizer, data);
      if (step >= 1) run.times.push(performance.now() - start); // step 0 warms up
    }
  }
  useKernels(null);
  for (const run of runs) {
    const ms = median(run.times);
    const timedSteps = run.times.length;
    let inside = 0;
    for (const v of run.spent.ms.values()) inside += v;
    console.log(
      `${workload.name} ${run.backend.name}: ${((workload.batch * outLength) / (ms / 1000)).toFixed(0)} samples/s ` +
        `(median step ${ms.toFixed(1)} ms; kernels ${(inside / timedSteps).toFixed(1)} ms/step, rest ${(ms - inside / timedSteps).toFixed(1)} ms)`,
    );
    for (const [key, total] of [...run.spent.ms].sort((a, b) => b[1] - a[1])) {
      const flops = run.spent.flops.get(key)!;
      const rate = flops > 0 ? `  ${(flops / (total * 1e6)).toFixed(1)} GFLOP/s` : "";
      console.log(`  ${key.padEnd(24)} ${(total / timedSteps).toFixed(1).padStart(8)} ms/step${rate}`);
    }
  }
}

/** Best-of-7 milliseconds of each backend's call, alternating so that machine load hits both alike. */
function bestOf(calls: (() => void)[]): number[] {
  const best = calls.map(() => Number.POSITIVE_INFINITY);
  for (let rep = 0; rep < 8; rep++) {
    calls.forEach((call, i) => {
      const start = performance.now();
      call();
      if (rep > 0) best[i] = Math.min(best[i]!, performance.now() - start);
    });
  }
  return best;
}

if (filter.includes("kernels")) {
  const rng = new Rng(2);
  const random = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());
  const report = (name: string, flops: number, ms: number[]) => {
    const rates = ms.map((t) =>
      flops > 0 ? `${(flops / (t * 1e6)).toFixed(1)} GFLOP/s` : `${t.toFixed(2)} ms`,
    );
    console.log(
      `  ${name.padEnd(34)} js ${rates[0]!.padStart(14)}   wasm ${rates[1]!.padStart(14)}   ${(ms[0]! / ms[1]!).toFixed(1)}x`,
    );
  };
  console.log("kernels alone (best of 7):");
  const T = 8192;
  for (const [inC, outC, K, d] of [
    [16, 32, 3, 1],
    [16, 32, 3, 512],
    [16, 16, 1, 1],
  ] as const) {
    const shape: ConvShape = {
      batch: 16,
      inChannels: inC,
      outChannels: outC,
      inLength: T,
      kernelSize: K,
      dilation: d,
      groups: 1,
      padLeft: (K - 1) * d,
    };
    const x = random(16 * inC * T, 0.3);
    const w = random(outC * inC * K, 0.2);
    const bias = random(outC, 0.1);
    const y = new Float32Array(16 * outC * T);
    const dy = random(y.length, 0.1);
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    const db = new Float32Array(outC);
    const tag = `conv ${inC}->${outC} k${K} d${d}`;
    const both = [jsKernels, wasmKernels];
    report(
      `${tag} forward`,
      convFlops(shape),
      bestOf(both.map((k) => () => k.conv1dForward(y, x, w, bias, shape))),
    );
    report(
      `${tag} backward data`,
      convFlops(shape),
      bestOf(both.map((k) => () => k.conv1dBackwardData(dx, dy, w, shape))),
    );
    report(
      `${tag} backward weights`,
      convFlops(shape),
      bestOf(both.map((k) => () => k.conv1dBackwardWeights(dw, db, dy, x, shape))),
    );
  }
  const gx = random(16 * 32 * T);
  const gy = new Float32Array(16 * 16 * T);
  const gdy = random(gy.length);
  const gdx = new Float32Array(gx.length);
  const both = [jsKernels, wasmKernels];
  report(
    "gate forward 16 x 16 x 8192 (ms)",
    0,
    bestOf(both.map((k) => () => k.gatedForward(gy, gx, 16, 16, T))),
  );
  report("gate backward (ms)", 0, bestOf(both.map((k) => () => k.gatedBackward(gdx, gdy, gx, 16, 16, T))));
  for (const [inputs, outputs] of [
    [256, 64],
    [64, 64],
  ] as const) {
    const shape: DenseShape = { rows: 4096, inputs, outputs };
    const x = random(4096 * inputs, 0.3);
    const w = random(outputs * inputs, 0.1);
    const b = random(outputs, 0.1);
    const y = new Float32Array(4096 * outputs);
    const dy = random(y.length, 0.1);
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    const db = new Float32Array(outputs);
    const tag = `dense ${inputs}->${outputs} x4096`;
    report(
      `${tag} forward`,
      denseFlops(shape),
      bestOf(both.map((k) => () => k.denseForward(y, x, w, b, shape))),
    );
    report(
      `${tag} backward (dx, dw)`,
      2 * denseFlops(shape),
      bestOf(both.map((k) => () => k.denseBackward(dx, dw, db, dy, x, w, shape))),
    );
  }
  const ax = random(4096 * 64);
  const ay = new Float32Array(ax.length);
  const adx = new Float32Array(ax.length);
  report(
    "tanh forward 4096 x 64 (ms)",
    0,
    bestOf(both.map((k) => () => k.activationForward(ay, ax, "tanh", ax.length, 0))),
  );
  report(
    "tanh backward (ms)",
    0,
    bestOf(both.map((k) => () => k.activationBackward(adx, ax, ax, ay, "tanh", ax.length, 0))),
  );
}
