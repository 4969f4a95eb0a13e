import assert from "node:assert/strict";
import { test } from "node:test";
import { DeepspError } from "../../../src/core/errors.ts";
import { Rng } from "../../../src/core/rng.ts";
import { splitFrames } from "../../../src/data/split.ts";
import type { Model } from "../../../src/nn/models/model.ts";
import { createModel } from "../../../src/nn/models/registry.ts";
import { createParallelGradients } from "../../../src/node/parallel/gradients.ts";
import { createLoss, type LossConfig } from "../../../src/train/losses/index.ts";
import {
  type BpttOptions,
  GradientComputer,
  type GradientSourceSetup,
  train,
} from "../../../src/train/trainer.ts";
import { testEachBuild } from "../../helpers/wasm-builds.ts";

/*
 * Data-parallel gradients (src/node/parallel) against the single-threaded GradientComputer on the same batch:
 * the same loss (bit for bit: the loss sees the same output) and the same gradients up to float32 summation
 * order, for a convolutional and a recurrent model (with truncated BPTT chunks), batch sizes that do and do
 * not split evenly, and a loss that does not decompose over windows (ESR).
 */

const ESR: LossConfig = { type: "esr", preEmphasis: { type: "highpass" } };

interface Case {
  name: string;
  config: Record<string, unknown>;
  bptt: BpttOptions | null;
  /** Windows per model pass in the parallel run (the single-threaded reference runs the whole batch). */
  microBatch: number | null;
  length: number;
}

const CASES: Case[] = [
  {
    name: "gated TCN",
    config: { architecture: "tcn", width: 6, kernelSize: 3, dilations: [1, 2, 4] },
    bptt: null,
    microBatch: null,
    length: 200,
  },
  {
    name: "gated TCN in passes of 2 windows",
    config: { architecture: "tcn", width: 6, kernelSize: 3, dilations: [1, 2, 4] },
    bptt: null,
    microBatch: 2,
    length: 200,
  },
  {
    name: "LSTM, BPTT in chunks",
    config: { architecture: "lstm", hidden: 5 },
    bptt: { burnIn: 30, truncate: 50 },
    microBatch: null,
    length: 180,
  },
];

async function compare(c: Case, batch: number, threads: number): Promise<void> {
  const model: Model = createModel(c.config, { seed: 3 });
  const inLength = model.receptiveField - 1 + c.length;
  const rng = new Rng(batch);
  const input = Float32Array.from({ length: batch * inLength }, () => 0.5 * rng.normal());
  const target = Float32Array.from({ length: batch * c.length }, () => 0.3 * rng.normal());
  const lossConfig = c.bptt ? { ...ESR, maskFirst: c.bptt.burnIn } : ESR;
  const loss = createLoss(lossConfig);

  const single = new GradientComputer(model, loss, c.bptt);
  const want = single.compute(input, target, batch, 1, c.length);
  const wantGrads = model.parameters.grads.slice();

  const setup = {
    model,
    loss,
    lossConfig,
    bptt: c.bptt,
    microBatch: c.microBatch,
    maxBatch: batch,
    channels: 1,
    inLength,
    length: c.length,
  };
  const parallel = await createParallelGradients(setup, threads);
  try {
    for (let repeat = 0; repeat < 2; repeat++) {
      model.parameters.grads.fill(Number.NaN); // compute must zero them
      const got = parallel.compute(input, target, batch, 1, c.length);
      assert.equal(got, want, `${c.name}, batch ${batch}: the loss differs`);
      const grads = model.parameters.grads;
      let scale = 0;
      for (const g of wantGrads) scale = Math.max(scale, Math.abs(g));
      for (let i = 0; i < grads.length; i++) {
        assert.ok(
          Math.abs(grads[i]! - wantGrads[i]!) <= 1e-5 * scale,
          `${c.name}, batch ${batch}, ${threads} threads: gradient ${i} is ${grads[i]}, single-threaded ${wantGrads[i]}`,
        );
      }
    }
  } finally {
    await parallel.close?.();
  }
}

for (const c of CASES) {
  testEachBuild(`parallel gradients equal the single-threaded ones: ${c.name}`, async () => {
    await compare(c, 6, 2);
    await compare(c, 5, 3); // slices 2, 2, 1
    await compare(c, 1, 2); // one window: the worker gets none
  });
}

/** A setup for a 4-tap linear model with MSE over batches of 8 rows of 20 -> 17 samples. */
function linearSetup(model: Model): GradientSourceSetup {
  const lossConfig: LossConfig = { type: "mse" };
  return {
    model,
    loss: createLoss(lossConfig),
    lossConfig,
    bptt: null,
    microBatch: null,
    maxBatch: 8,
    channels: 1,
    inLength: 20,
    length: 17,
  };
}

test("one thread or a float64 model gives the plain GradientComputer; bad thread counts are refused", async () => {
  const setup = linearSetup(createModel({ architecture: "linear", taps: 4 }, { seed: 1 }));
  assert.ok((await createParallelGradients(setup, 1)) instanceof GradientComputer);
  const model64 = createModel({ architecture: "linear", taps: 4 }, { seed: 1, floatType: "float64" });
  assert.ok((await createParallelGradients({ ...setup, model: model64 }, 2)) instanceof GradientComputer);
  await assert.rejects(createParallelGradients(setup, 0), DeepspError);
});

test("a worker that cannot build the model fails setup with a train/worker error", async () => {
  const model = createModel({ architecture: "linear", taps: 4 }, { seed: 1 });
  const broken = Object.assign(Object.create(model) as Model, {
    toConfig: () => ({ architecture: "no-such-architecture" }),
  });
  await assert.rejects(createParallelGradients(linearSetup(broken), 2), (error: unknown) => {
    assert.ok(error instanceof DeepspError);
    assert.equal(error.code, "train/worker");
    assert.match(error.message, /no-such-architecture/);
    return true;
  });
});

test("train() with two gradient threads learns like one thread and stops its workers when done", async () => {
  const rate = 8000;
  const rng = new Rng(4);
  const x = Float32Array.from({ length: 2 * rate }, () => 0.5 * rng.normal());
  const y = new Float32Array(x.length);
  for (let i = 1; i < x.length; i++) y[i] = 0.6 * y[i - 1]! + 0.4 * Math.tanh(2 * x[i]!);
  const pair = { input: { sampleRate: rate, channels: [x] }, target: { sampleRate: rate, channels: [y] } };
  const split = splitFrames(x.length, rate, { kind: "fractions", train: 0.7, validation: 0.3, test: 0 });
  const settings = {
    batchSize: 6,
    learningRate: 0.01,
    loss: { type: "mse" } as LossConfig,
    windowLength: 256,
    overlap: 2,
    seed: 7,
    epochs: 3,
  };
  const run = async (threads: number) => {
    const model = createModel(
      { architecture: "tcn", width: 4, kernelSize: 3, dilations: [1, 2, 4] },
      { seed: 2 },
    );
    let closed = 0;
    const result = await train({
      ...settings,
      model,
      parts: [{ name: "take", pair, split }],
      gradients: async (setup) => {
        const source = await createParallelGradients(setup, threads);
        return {
          compute: source.compute.bind(source),
          close: async () => {
            closed++;
            await source.close?.();
          },
        };
      },
    });
    assert.equal(closed, 1);
    return result;
  };
  const one = await run(1);
  const two = await run(2);
  assert.ok(
    two.bestEsr! < two.initialValidation!.esr * 0.5,
    `two threads did not learn: ${JSON.stringify(two.history.map((h) => h.validationEsr))}`,
  );
  assert.ok(
    Math.abs(two.bestEsr! - one.bestEsr!) <= 1e-3 * one.bestEsr! + 1e-6,
    `1 thread ${one.bestEsr}, 2 threads ${two.bestEsr}`,
  );
});
