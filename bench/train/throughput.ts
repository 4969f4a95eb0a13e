import { Rng } from "../../src/core/rng.ts";
import { setTrainingWasmBuild } from "../../src/nn/kernels/wasm/module.ts";
import { MlpModel } from "../../src/nn/models/mlp.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { RnnModel } from "../../src/nn/models/rnn.ts";
import { TcnModel } from "../../src/nn/models/tcn.ts";
import { createParallelGradients } from "../../src/node/parallel/gradients.ts";
import { createLoss, type LossConfig } from "../../src/train/losses/index.ts";
import { Adam } from "../../src/train/optimizer.ts";
import { STORED_TORCH_TRAINING, torchAnchors } from "../anchors.ts";
import type { Benchmark, Figure } from "../harness.ts";

interface Workload {
  /** The torch_bench.py case name. */
  case: string;
  /** Tells two workloads of one case apart in the figures' names. */
  variant?: string;
  make(): Model;
  batch: number;
  /** Input samples per sequence; output samples counted = batch * (inLength - receptiveField + 1). */
  inLength: number;
}

const WORKLOADS: Workload[] = [
  ...[16, 256].flatMap((batch) =>
    (
      [
        ["lstm", 16],
        ["lstm", 32],
        ["gru", 16],
      ] as const
    ).map(([cell, hidden]) => ({
      case: `train-${cell}${hidden}${batch === 16 ? "" : `-b${batch}`}`,
      make: () => new RnnModel({ cell, hidden }),
      batch,
      inLength: 2048,
    })),
  ),
  { case: "train-tcn16x10", make: () => new TcnModel({ padding: "causal" }), batch: 16, inLength: 8192 },
  // torch_bench.py's MLP step: 4096 output samples, each from the 256 samples ending at it, of one signal
  // (x = audio.unfold(0, 256, 1)). Here the same 4096 outputs come from 16 windows of 511 samples (so that
  // two threads can share them); then the harder form with 4096 separate windows of one output each.
  {
    case: "train-mlp256",
    make: () => new MlpModel({ window: 256, hidden: [64, 64] }),
    batch: 16,
    inLength: 511,
  },
  {
    case: "train-mlp256",
    variant: "4096 separate windows",
    make: () => new MlpModel({ window: 256, hidden: [64, 64] }),
    batch: 4096,
    inLength: 256,
  },
];

/** The workloads measured again on one thread with the SIMD 128 build (no fused multiply-add) for comparison. */
const SIMD_ROWS = new Set(["train-tcn16x10", "train-mlp256"]);

const keyOf = (w: Workload): string => `${w.case} ${w.batch}`;

/**
 * Training throughput (forward + MSE + backward + Adam) on the workloads of
 * ../shared/bench-anchors/torch_bench.py, in output samples per second, with PyTorch's figure and the ratio:
 * on one thread against PyTorch with one, and data-parallel over two threads (src/node/parallel) against
 * PyTorch with two where the anchors have it (else against one, to show whether threads pay). PyTorch is
 * measured in the same run when Debian's python3-torch is installed; the stored 2026-11-24 figures the goals
 * quote are shown beside it. The wasm kernels run their relaxed-SIMD build (fused multiply-add); the TCN and the
 * MLP also run once with the SIMD 128 build. `--only` picks workloads by case name.
 */
export const trainingBench: Benchmark = {
  name: "training",
  description: "training samples/s vs PyTorch CPU (1 and 2 threads), torch_bench.py workloads",
  async run({ only }) {
    const workloads = WORKLOADS.filter(
      (w) => only.length === 0 || only.some((name) => w.case.includes(name)),
    );
    const figures: Figure[] = [];
    const measured = new Map<string, number>();
    for (const workload of workloads) {
      for (const threads of [1, 2])
        measured.set(`${keyOf(workload)}@${threads}`, await throughput(workload, threads));
      if (SIMD_ROWS.has(workload.case) && workload.variant === undefined) {
        setTrainingWasmBuild("simd");
        try {
          measured.set(`${keyOf(workload)}@simd`, await throughput(workload, 1));
        } finally {
          setTrainingWasmBuild("auto");
        }
      }
    }
    const cases = [...new Set(workloads.map((w) => w.case))];
    const batches = [...new Set(workloads.filter((w) => w.case.includes("-b")).map((w) => w.batch)), 16];
    const anchors = [1, 2].map((threads) => torchAnchors(cases, batches, threads));
    for (const workload of workloads) {
      for (const threads of [1, 2, 0]) {
        const ours = measured.get(`${keyOf(workload)}@${threads === 0 ? "simd" : threads}`);
        if (ours === undefined) continue;
        const torchThreads = Math.max(1, threads);
        const same = anchors[torchThreads - 1]!.figures.get(workload.case);
        const live = same ?? anchors[0]!.figures.get(workload.case);
        const liveThreads = same === undefined ? 1 : torchThreads;
        const stored = STORED_TORCH_TRAINING.get(`${workload.case}@${torchThreads}`);
        const notes = [
          live === undefined
            ? ""
            : `PyTorch ${plural(liveThreads)} now ${live.toFixed(0)}: ${(ours / live).toFixed(2)}x`,
          stored === undefined ? "" : `stored ${stored}: ${(ours / stored).toFixed(2)}x`,
        ].filter((note) => note !== "");
        figures.push({
          name: `${workload.case} (${workload.variant ?? `batch ${workload.batch}`}), ${threads === 0 ? "1 thread, SIMD 128 build" : plural(threads)}`,
          value: ours,
          unit: "samples/s",
          note: notes.length > 0 ? notes.join("; ") : "no PyTorch figure",
        });
      }
    }
    for (const anchor of anchors)
      figures.push({ name: "anchor", value: anchor.figures.size, unit: "cases", note: anchor.source });
    return figures;
  },
};

const plural = (threads: number): string => `${threads} thread${threads > 1 ? "s" : ""}`;

/**
 * Median samples/s of training steps: at least 10 and 2 s of them (at least 3 when they take over 20 s), after
 * warm-up steps for at least a second (and at least two): the JIT compiles the step's JavaScript over its first
 * calls, which a training run of thousands of steps never sees again.
 */
async function throughput(workload: Workload, threads: number): Promise<number> {
  const model = workload.make();
  const outLength = workload.inLength - model.receptiveField + 1;
  const rng = new Rng(1);
  const input = Float32Array.from({ length: workload.batch * workload.inLength }, () => 0.3 * rng.normal());
  const target = Float32Array.from({ length: workload.batch * outLength }, () => 0.3 * rng.normal());
  const lossConfig: LossConfig = { type: "mse" };
  const loss = createLoss(lossConfig);
  const optimizer = new Adam(model.parameters);
  const gradients = await createParallelGradients(
    {
      model,
      loss,
      lossConfig,
      bptt: null,
      microBatch: null,
      maxBatch: workload.batch,
      channels: 1,
      inLength: workload.inLength,
      length: outLength,
    },
    threads,
  );
  const warm = performance.now() + 1000;
  for (let step = 0; step < 2 || performance.now() < warm; step++) {
    gradients.compute(input, target, workload.batch, 1, outLength);
    optimizer.step();
  }
  const times: number[] = [];
  const begin = performance.now();
  for (let step = 0; ; step++) {
    const elapsed = performance.now() - begin;
    if (step >= 3 && elapsed > 20000) break;
    if (step >= 10 && elapsed > 2000) break;
    const start = performance.now();
    gradients.compute(input, target, workload.batch, 1, outLength);
    optimizer.step();
    times.push(performance.now() - start);
  }
  await gradients.close?.();
  times.sort((a, b) => a - b);
  return (workload.batch * outLength) / (times[Math.floor(times.length / 2)]! / 1000);
}
