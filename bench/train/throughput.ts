import { Rng } from "../../src/core/rng.ts";
import { MlpModel } from "../../src/nn/models/mlp.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { RnnModel } from "../../src/nn/models/rnn.ts";
import { TcnModel } from "../../src/nn/models/tcn.ts";
import { createParallelGradients } from "../../src/node/parallel/gradients.ts";
import { createLoss, type LossConfig } from "../../src/train/losses/index.ts";
import { Adam } from "../../src/train/optimizer.ts";
import { torchAnchors } from "../anchors.ts";
import type { Benchmark, Figure } from "../harness.ts";

interface Workload {
  /** The torch_bench.py case name. */
  case: string;
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
  {
    case: "train-mlp256",
    make: () => new MlpModel({ window: 256, hidden: [64, 64] }),
    batch: 4096,
    inLength: 256,
  },
];

/**
 * Training throughput (forward + MSE + backward + Adam) on the workloads of
 * ../shared/bench-anchors/torch_bench.py, in output samples per second, with PyTorch's figure and the ratio:
 * on one thread against PyTorch with one, and data-parallel over two threads (src/node/parallel) against
 * PyTorch with two where the anchors have it (else against one, to show whether threads pay).
 */
export const trainingBench: Benchmark = {
  name: "training",
  description: "training samples/s vs PyTorch CPU (1 and 2 threads), torch_bench.py workloads",
  async run() {
    const figures: Figure[] = [];
    const measured = new Map<string, number>();
    for (const workload of WORKLOADS) {
      for (const threads of [1, 2])
        measured.set(`${workload.case}@${threads}`, await throughput(workload, threads));
    }
    const anchors = [1, 2].map((threads) => torchAnchors(["train-"], [16, 256], threads));
    for (const workload of WORKLOADS) {
      for (const threads of [1, 2]) {
        const ours = measured.get(`${workload.case}@${threads}`)!;
        const same = anchors[threads - 1]!.figures.get(workload.case);
        const torch = same ?? anchors[0]!.figures.get(workload.case);
        const torchThreads = same === undefined ? 1 : threads;
        figures.push({
          name: `${workload.case} (batch ${workload.batch}), ${threads} thread${threads > 1 ? "s" : ""}`,
          value: ours,
          unit: "samples/s",
          note:
            torch === undefined
              ? "no PyTorch figure"
              : `PyTorch ${torchThreads} thread${torchThreads > 1 ? "s" : ""} ${torch.toFixed(0)}, ratio ${(ours / torch).toFixed(2)}x`,
        });
      }
    }
    for (const anchor of anchors)
      figures.push({ name: "anchor", value: anchor.figures.size, unit: "cases", note: anchor.source });
    return figures;
  },
};

/** Median samples/s of training steps (after two warm-up steps), within ~20 s. */
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
  const times: number[] = [];
  const budget = performance.now() + 20000;
  for (let step = 0; step < 12 && (step < 5 || performance.now() < budget); step++) {
    const start = performance.now();
    gradients.compute(input, target, workload.batch, 1, outLength);
    optimizer.step();
    if (step >= 2) times.push(performance.now() - start);
  }
  await gradients.close?.();
  times.sort((a, b) => a - b);
  return (workload.batch * outLength) / (times[Math.floor(times.length / 2)]! / 1000);
}
