import { Rng } from "../../src/core/rng.ts";
import { MlpModel } from "../../src/nn/models/mlp.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { RnnModel } from "../../src/nn/models/rnn.ts";
import { TcnModel } from "../../src/nn/models/tcn.ts";
import { createLoss } from "../../src/train/losses/index.ts";
import { Adam } from "../../src/train/optimizer.ts";
import { trainStep } from "../../src/train/step.ts";
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
 * ../shared/bench-anchors/torch_bench.py, in output samples per second, with PyTorch's figure and the ratio.
 */
export const trainingBench: Benchmark = {
  name: "training",
  description: "training samples/s vs PyTorch CPU (1 thread), torch_bench.py workloads",
  async run() {
    const figures: Figure[] = [];
    const measured = new Map<string, number>();
    for (const workload of WORKLOADS) {
      const model = workload.make();
      const outLength = workload.inLength - model.receptiveField + 1;
      const rng = new Rng(1);
      const input = Float32Array.from(
        { length: workload.batch * workload.inLength },
        () => 0.3 * rng.normal(),
      );
      const target = Float32Array.from({ length: workload.batch * outLength }, () => 0.3 * rng.normal());
      const batch = {
        input: { data: input, batch: workload.batch, channels: 1, length: workload.inLength },
        target,
      };
      const loss = createLoss({ type: "mse" });
      const optimizer = new Adam(model.parameters);
      const times: number[] = [];
      const budget = performance.now() + 20000;
      for (let step = 0; step < 12 && (step < 5 || performance.now() < budget); step++) {
        const start = performance.now();
        trainStep(model, loss, optimizer, batch);
        if (step >= 2) times.push(performance.now() - start); // two warm-up steps
      }
      times.sort((a, b) => a - b);
      const samplesPerSecond = (workload.batch * outLength) / (times[Math.floor(times.length / 2)]! / 1000);
      measured.set(workload.case, samplesPerSecond);
    }
    const anchors = torchAnchors(["train-"], [16, 256]);
    for (const workload of WORKLOADS) {
      const ours = measured.get(workload.case)!;
      const torch = anchors.figures.get(workload.case);
      figures.push({
        name: `${workload.case} (batch ${workload.batch})`,
        value: ours,
        unit: "samples/s",
        note:
          torch === undefined
            ? "no PyTorch figure"
            : `PyTorch ${torch.toFixed(0)}, ratio ${(ours / torch).toFixed(2)}x`,
      });
    }
    figures.push({ name: "anchor", value: anchors.figures.size, unit: "cases", note: anchors.source });
    return figures;
  },
};
