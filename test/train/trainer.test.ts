import assert from "node:assert/strict";
import { test } from "node:test";
import { DeepspError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import type { Pair } from "../../src/data/pair.ts";
import { splitFrames } from "../../src/data/split.ts";
import type { SplitPair } from "../../src/data/windows.ts";
import type { Sequence } from "../../src/nn/layers/sequence.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { type Checkpoint, checkpointFromJson, checkpointToJson } from "../../src/train/checkpoint.ts";
import { evaluateSources } from "../../src/train/evaluate.ts";
import { createLoss, type LossConfig } from "../../src/train/losses/index.ts";
import { GradientComputer, type TrainEvent, type TrainOptions, train } from "../../src/train/trainer.ts";

const RATE = 8000;

/** Seeded noise through a one-pole low-pass: x -> y; or, with `learnable: false`, y independent noise. */
function makeParts(
  seconds: number,
  options: { learnable?: boolean; nonlinear?: boolean; seed?: number } = {},
): SplitPair[] {
  const frames = Math.round(seconds * RATE);
  const rng = new Rng(options.seed ?? 1);
  const x = Float32Array.from({ length: frames }, () => 0.5 * rng.normal());
  const y = new Float32Array(frames);
  let state = 0;
  for (let i = 0; i < frames; i++) {
    state = 0.6 * state + 0.4 * x[i]!;
    y[i] =
      options.learnable === false ? 0.3 * rng.normal() : options.nonlinear ? Math.tanh(2 * state) : state;
  }
  const pair: Pair = {
    input: { sampleRate: RATE, channels: [x] },
    target: { sampleRate: RATE, channels: [y] },
  };
  const split = splitFrames(frames, RATE, { kind: "fractions", train: 0.7, validation: 0.3, test: 0 });
  return [{ name: "take", pair, split }];
}

function validationEsr(model: Model, parts: SplitPair[], burnIn = 0): number {
  const sources = parts.map((part) => ({ pair: part.pair, regions: part.split.regions.validation }));
  return evaluateSources(model, sources, { burnIn }).esr;
}

function sameBits(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return ua.every((byte, i) => byte === ub[i]);
}

/** Keeps every checkpoint, through JSON and back (the way a file would). */
function memorySaver(into: Checkpoint[]): (checkpoint: Checkpoint) => Promise<void> {
  return async (checkpoint) => {
    into.push(checkpointFromJson(checkpointToJson(checkpoint), `memory:${checkpoint.kind}`));
  };
}

const linearBase = {
  batchSize: 8,
  learningRate: 0.01,
  loss: { type: "mse" } as LossConfig,
  windowLength: 128,
  overlap: 2,
  seed: 7,
};

test("train: the loss goes down, validation ESR improves, events come in order, the best model is kept", async () => {
  const parts = makeParts(2);
  const model = createModel({ architecture: "linear", taps: 8 }, { seed: 1 });
  const untrained = validationEsr(model, parts);
  const events: TrainEvent[] = [];
  const saved: Checkpoint[] = [];
  const result = await train({
    model,
    parts,
    ...linearBase,
    epochs: 6,
    onEvent: (event) => events.push(event),
    saveCheckpoint: memorySaver(saved),
  });
  assert.equal(result.reason, "completed");
  assert.equal(result.epochsRun, 6);
  assert.equal(result.history.length, 6);
  assert.equal(result.initialValidation!.esr, untrained);
  const last = result.history.at(-1)!;
  assert.ok(
    last.validationEsr < untrained / 20,
    `validation ESR ${last.validationEsr} (untrained ${untrained})`,
  );
  assert.ok(last.trainLoss < result.history[0]!.trainLoss, "training loss decreased");
  assert.ok(result.bestEsr! <= Math.min(...result.history.map((h) => h.validationEsr)));
  // The model holds the best parameters: measuring it again gives the best ESR exactly.
  assert.equal(validationEsr(model, parts), result.bestEsr);

  // Event order: start, validation 0, then per epoch: epoch-start, batch..., validation, epoch-end, checkpoint.
  const start = events[0]!;
  assert.equal(start.type, "start");
  assert.ok(start.type === "start" && start.batchesPerEpoch > 1 && start.parameters === 9 && !start.resumed);
  const batches = start.type === "start" ? start.batchesPerEpoch : 0;
  assert.deepEqual(events[1], {
    type: "validation",
    epoch: 0,
    esr: untrained,
    loss: result.initialValidation!.loss,
    best: false,
    bestEpoch: null,
    bestEsr: null,
  });
  let i = 2;
  for (let epoch = 1; epoch <= 6; epoch++) {
    const epochStart = events[i++]!;
    assert.ok(epochStart.type === "epoch-start" && epochStart.epoch === epoch && epochStart.attempt === 1);
    for (let b = 1; b <= batches; b++) {
      const event = events[i++]!;
      assert.ok(event.type === "batch", `epoch ${epoch} batch ${b}: ${event.type}`);
      assert.equal(event.batch, b);
      assert.equal(event.batches, batches);
      assert.ok(Number.isFinite(event.loss) && event.samplesPerSecond > 0);
    }
    const validation = events[i++]!;
    assert.ok(validation.type === "validation" && validation.epoch === epoch);
    assert.equal(validation.esr, result.history[epoch - 1]!.validationEsr);
    const end = events[i++]!;
    assert.ok(end.type === "epoch-end" && end.epoch === epoch && end.learningRate === 0.01);
    const checkpoint = events[i++]!;
    assert.ok(checkpoint.type === "checkpoint" && checkpoint.epoch === epoch);
    assert.deepEqual(checkpoint.kinds, validation.best ? ["best", "last"] : ["last"]);
  }
  const end = events[i++]!;
  assert.ok(end.type === "end" && end.reason === "completed" && end.bestEpoch === result.bestEpoch);
  assert.equal(i, events.length);

  // Checkpoints: best before last for improving epochs; the last one holds the whole history.
  const lastCheckpoint = saved.at(-1)!;
  assert.equal(lastCheckpoint.kind, "last");
  assert.equal(lastCheckpoint.epochsCompleted, 6);
  assert.equal(lastCheckpoint.history.length, 6);
  assert.equal(lastCheckpoint.best!.epoch, result.bestEpoch);
  assert.ok(sameBits(lastCheckpoint.best!.parameters, model.parameters.values as Float32Array));
  const bestCheckpoint = saved.filter((c) => c.kind === "best").at(-1)!;
  assert.equal(bestCheckpoint.epochsCompleted, result.bestEpoch);
  assert.ok(sameBits(bestCheckpoint.model.parameters, model.parameters.values as Float32Array));
});

test("train: early stopping on a target it cannot learn, with the best parameters restored", async () => {
  const parts = makeParts(1.5, { learnable: false });
  const model = createModel({ architecture: "linear", taps: 8 }, { seed: 2 });
  const events: TrainEvent[] = [];
  const result = await train({
    model,
    parts,
    ...linearBase,
    learningRate: 0.05,
    epochs: 60,
    patience: 3,
    onEvent: (event) => events.push(event),
  });
  assert.equal(result.reason, "early-stop");
  assert.ok(result.epochsRun < 60, `stopped after ${result.epochsRun} epochs`);
  assert.equal(result.epochsRun, result.bestEpoch! + 3);
  assert.ok(result.bestEsr! > 0.9, `noise is not learnable: best ESR ${result.bestEsr}`);
  const earlyStop = events.find((event) => event.type === "early-stop");
  assert.deepEqual(earlyStop, {
    type: "early-stop",
    epoch: result.epochsRun,
    bestEpoch: result.bestEpoch,
    bestEsr: result.bestEsr,
    patience: 3,
  });
  assert.equal(events.at(-1)!.type, "end");
  assert.equal(validationEsr(model, parts), result.bestEsr);
});

/** A test-only wrapper that outputs NaN on chosen training calls (recognised by their input length). */
class FaultyModel implements Model {
  readonly inner: Model;
  readonly trainLength: number;
  trainingCalls = 0;
  failOn: (call: number) => boolean;

  constructor(inner: Model, trainLength: number, failOn: (call: number) => boolean) {
    this.inner = inner;
    this.trainLength = trainLength;
    this.failOn = failOn;
  }
  get architecture() {
    return this.inner.architecture;
  }
  get parameters() {
    return this.inner.parameters;
  }
  get receptiveField() {
    return this.inner.receptiveField;
  }
  get channels() {
    return this.inner.channels;
  }
  get recurrent() {
    return this.inner.recurrent;
  }
  forward(input: Sequence): Sequence {
    const output = this.inner.forward(input);
    if (input.length === this.trainLength && this.failOn(++this.trainingCalls)) {
      const data = output.data.slice();
      data[0] = Number.NaN;
      return { ...output, data };
    }
    return output;
  }
  backward(dOutput: Sequence): void {
    this.inner.backward(dOutput);
  }
  setCarryState(carry: boolean): void {
    this.inner.setCarryState(carry);
  }
  resetState(): void {
    this.inner.resetState();
  }
  toConfig() {
    return this.inner.toConfig();
  }
}

test("train: a NaN loss rolls back to the epoch's start, halves the learning rate and redoes the epoch", async () => {
  const parts = makeParts(1.5);
  const inner = createModel({ architecture: "linear", taps: 8 }, { seed: 3 });
  const model = new FaultyModel(inner, 8 - 1 + 128, (call) => call === 40);
  const events: TrainEvent[] = [];
  const result = await train({
    model,
    parts,
    ...linearBase,
    epochs: 3,
    schedule: { type: "exponential", gamma: 0.9 },
    onEvent: (event) => events.push(event),
  });
  assert.equal(result.reason, "completed");
  const start = events.find((event) => event.type === "start")!;
  const batches = start.type === "start" ? start.batchesPerEpoch : 0;
  const epoch = Math.ceil(40 / batches);
  const divergence = events.filter((event) => event.type === "divergence");
  assert.equal(divergence.length, 1);
  assert.deepEqual(divergence[0], {
    type: "divergence",
    epoch,
    batch: 40 - (epoch - 1) * batches,
    reason: "the loss was NaN",
    learningRate: 0.01 * 0.9 ** (epoch - 1) * 0.5,
    inEpoch: 1,
    total: 1,
  });
  const attempts = events.filter((event) => event.type === "epoch-start" && event.epoch === epoch);
  assert.deepEqual(
    attempts.map((event) => event.type === "epoch-start" && [event.attempt, event.learningRate]),
    [
      [1, 0.01 * 0.9 ** (epoch - 1)],
      [2, 0.01 * 0.9 ** (epoch - 1) * 0.5],
    ],
  );
  assert.equal(result.history[epoch - 1]!.divergences, 1);
  // The lowered rate stays: the schedule continues from it.
  assert.ok(Math.abs(result.history[2]!.learningRate - 0.01 * 0.9 ** 2 * 0.5) < 1e-15);
  assert.ok(model.parameters.values.every(Number.isFinite));
  assert.ok(result.bestEsr! < result.initialValidation!.esr / 10);
});

test("train: repeated divergence stops with train/diverged and a message suggesting a lower learning rate", async () => {
  const parts = makeParts(1.5);
  // Every training call from the 5th on fails: three divergences in epoch 1.
  const always = new FaultyModel(
    createModel({ architecture: "linear", taps: 8 }, { seed: 3 }),
    135,
    (c) => c >= 5,
  );
  const events: TrainEvent[] = [];
  await assert.rejects(
    train({ model: always, parts, ...linearBase, epochs: 3, onEvent: (event) => events.push(event) }),
    (error: unknown) => {
      assert.ok(error instanceof DeepspError);
      assert.equal(error.code, "train/diverged");
      // Batch 5 failed, then batch 1 of both redone attempts.
      assert.match(error.message, /in epoch 1 \(batch 1 of \d+\) the loss was NaN/);
      assert.match(error.message, /3 divergence\(s\) in this epoch/);
      assert.match(error.message, /lower learning rate \(e\.g\. 0\.0025 instead of 0\.01\)/);
      assert.match(error.message, /clipNorm/);
      return true;
    },
  );
  assert.equal(events.filter((event) => event.type === "divergence").length, 2);

  // Two divergences per epoch: the sixth in the run (in epoch 3) stops it.
  let attempt = 0;
  const twice = new FaultyModel(
    createModel({ architecture: "linear", taps: 8 }, { seed: 3 }),
    135,
    () => false,
  );
  let failNext = false;
  twice.failOn = () => {
    const fail = failNext;
    failNext = false;
    return fail;
  };
  await assert.rejects(
    train({
      model: twice,
      parts,
      ...linearBase,
      epochs: 5,
      onEvent: (event) => {
        if (event.type === "epoch-start") {
          attempt = event.attempt;
          failNext = attempt <= 2;
        }
      },
    }),
    /in epoch 3 .* 6 in the run/,
  );
});

test("train: resuming from a checkpoint gives bit-identical parameters to an uninterrupted run", async () => {
  const setups: [string, () => Model, Omit<TrainOptions, "model" | "parts" | "epochs">][] = [
    [
      "tcn, exponential schedule, clipping",
      () => createModel({ architecture: "tcn", width: 4, dilations: [1, 2, 4] }, { seed: 5 }),
      { ...linearBase, schedule: { type: "exponential", gamma: 0.8 }, clipNorm: 0.5 },
    ],
    [
      "lstm with burn-in and truncation, plateau schedule",
      () => createModel({ architecture: "lstm", hidden: 4 }, { seed: 6 }),
      {
        ...linearBase,
        windowLength: 48,
        burnIn: 16,
        truncate: 20,
        overlap: 1,
        loss: {
          type: "sum",
          terms: [
            { weight: 1, loss: { type: "esr", preEmphasis: { type: "highpass" } } },
            { weight: 1, loss: { type: "dc" } },
          ],
        },
        schedule: { type: "plateau", patience: 0, factor: 0.5 },
      },
    ],
  ];
  const parts = makeParts(1, { nonlinear: true });
  for (const [name, build, settings] of setups) {
    const straight = build();
    const straightResult = await train({ model: straight, parts, ...settings, epochs: 4 });
    // The last parameters, not the best: compare through the "last" checkpoint of each run.
    const straightSaved: Checkpoint[] = [];
    const again = build();
    await train({ model: again, parts, ...settings, epochs: 4, saveCheckpoint: memorySaver(straightSaved) });
    assert.ok(
      sameBits(again.parameters.values, straight.parameters.values),
      `${name}: runs are deterministic`,
    );

    // Interrupted after 2 epochs (a run asked for 2), resumed to 4 in a fresh model.
    const firstHalf: Checkpoint[] = [];
    await train({ model: build(), parts, ...settings, epochs: 2, saveCheckpoint: memorySaver(firstHalf) });
    const resumedSaved: Checkpoint[] = [];
    const resumed = createModel(firstHalf.at(-1)!.model.config);
    const events: TrainEvent[] = [];
    const resumedResult = await train({
      model: resumed,
      parts,
      ...settings,
      epochs: 4,
      resumeFrom: firstHalf.at(-1)!,
      saveCheckpoint: memorySaver(resumedSaved),
      onEvent: (event) => events.push(event),
    });
    const start = events[0]!;
    assert.ok(start.type === "start" && start.resumed && start.firstEpoch === 3);
    assert.ok(!events.some((event) => event.type === "validation" && event.epoch === 0));
    const a = straightSaved.at(-1)!;
    const b = resumedSaved.at(-1)!;
    assert.ok(sameBits(a.model.parameters, b.model.parameters), `${name}: last parameters bit-identical`);
    assert.ok(sameBits(a.optimizer.m, b.optimizer.m) && sameBits(a.optimizer.v, b.optimizer.v));
    assert.deepEqual(b.schedule, a.schedule);
    assert.ok(
      sameBits(resumed.parameters.values, straight.parameters.values),
      `${name}: best parameters bit-identical`,
    );
    assert.equal(resumedResult.bestEsr, straightResult.bestEsr);
    const strip = (history: typeof a.history) => history.map(({ seconds: _, ...rest }) => rest);
    assert.deepEqual(strip(resumedResult.history), strip(straightResult.history));
    assert.deepEqual(resumedResult.initialValidation, straightResult.initialValidation);

    // Stopped in the middle of epoch 3 by a signal, then resumed from the last checkpoint (epoch 2).
    const controller = new AbortController();
    const stoppedSaved: Checkpoint[] = [];
    const stopped = await train({
      model: build(),
      parts,
      ...settings,
      epochs: 4,
      signal: controller.signal,
      saveCheckpoint: memorySaver(stoppedSaved),
      onEvent: (event) => {
        if (event.type === "batch" && event.epoch === 3 && event.batch === 2) controller.abort();
      },
    });
    assert.equal(stopped.reason, "stopped");
    assert.equal(stopped.epochsRun, 2);
    const continued = createModel(stoppedSaved.at(-1)!.model.config);
    await train({ model: continued, parts, ...settings, epochs: 4, resumeFrom: stoppedSaved.at(-1)! });
    assert.ok(sameBits(continued.parameters.values, straight.parameters.values), `${name}: after a stop`);
  }
});

test("train: resume refuses other settings, another model or other data, naming what differs", async () => {
  const parts = makeParts(1);
  const saved: Checkpoint[] = [];
  await train({
    model: createModel({ architecture: "linear", taps: 8 }, { seed: 1 }),
    parts,
    ...linearBase,
    epochs: 1,
    saveCheckpoint: memorySaver(saved),
  });
  const checkpoint = saved.at(-1)!;
  const model = () => createModel({ architecture: "linear", taps: 8 });
  await assert.rejects(
    train({ model: model(), parts, ...linearBase, learningRate: 0.02, epochs: 2, resumeFrom: checkpoint }),
    /setting learningRate is 0\.02 but the checkpoint was made with 0\.01/,
  );
  await assert.rejects(
    train({ model: model(), parts, ...linearBase, loss: { type: "l1" }, epochs: 2, resumeFrom: checkpoint }),
    /setting loss\.type is "l1" but the checkpoint was made with "mse"/,
  );
  await assert.rejects(
    train({
      model: createModel({ architecture: "linear", taps: 6 }),
      parts,
      ...linearBase,
      epochs: 2,
      resumeFrom: checkpoint,
    }),
    /model config taps is 6 but the checkpoint's model has 8/,
  );
  await assert.rejects(
    train({
      model: model(),
      parts: makeParts(1, { seed: 2 }),
      ...linearBase,
      epochs: 2,
      resumeFrom: checkpoint,
    }),
    /data\.parts\[0\]\.hash \(part "take"\): the audio differs/,
  );
  // A finished run resumed with the same epochs does nothing more; with more epochs it continues.
  const done = await train({ model: model(), parts, ...linearBase, epochs: 1, resumeFrom: checkpoint });
  assert.equal(done.reason, "completed");
  assert.equal(done.epochsRun, 1);
  const more = await train({
    model: model(),
    parts,
    ...checkpoint.settings,
    epochs: 2,
    resumeFrom: checkpoint,
  });
  assert.equal(more.epochsRun, 2);
});

test("train: options are checked before any training", async () => {
  const parts = makeParts(1);
  const linear = () => createModel({ architecture: "linear", taps: 8 });
  await assert.rejects(
    train({ model: linear(), parts, ...linearBase, epochs: 1, burnIn: 100 }),
    /burnIn and truncate apply to recurrent models/,
  );
  await assert.rejects(
    train({ model: linear(), parts, ...linearBase, epochs: 0 }),
    /train options: epochs: expected number to be >=1, got 0/,
  );
  await assert.rejects(
    train({ model: linear(), parts, ...linearBase, epochs: 1, patiense: 3 } as TrainOptions),
    /unknown option "patiense"/,
  );
  await assert.rejects(
    train({ model: linear(), parts, ...linearBase, epochs: 1, loss: { type: "mrstft" } }),
    /rows of 128 samples .* shorter than the largest FFT size 2048/,
  );
  // Training rows of 4096 suit a 2048-point STFT; a validation region of 2400 frames minus the burn-in does not.
  await assert.rejects(
    train({
      model: createModel({ architecture: "gru", hidden: 2 }),
      parts,
      ...linearBase,
      windowLength: 4096,
      burnIn: 500,
      epochs: 1,
      loss: { type: "mrstft" },
    }),
    /validation loss over the held-out regions: .*shorter than the largest FFT size 2048/,
  );
  const noValidation = parts.map((part) => ({
    ...part,
    split: splitFrames(part.split.frames, RATE, { kind: "whole", role: "train" }),
  }));
  await assert.rejects(
    train({ model: linear(), parts: noValidation, ...linearBase, epochs: 1 }),
    /no audio is assigned to validation/,
  );
});

test("train: an abort signal stops after the current batch with reason stopped", async () => {
  const parts = makeParts(1);
  const controller = new AbortController();
  const events: TrainEvent[] = [];
  const result = await train({
    model: createModel({ architecture: "linear", taps: 8 }),
    parts,
    ...linearBase,
    epochs: 5,
    signal: controller.signal,
    onEvent: (event) => {
      events.push(event);
      if (event.type === "batch" && event.batch === 3) controller.abort();
    },
  });
  assert.equal(result.reason, "stopped");
  assert.equal(result.epochsRun, 0);
  assert.equal(result.bestEpoch, null);
  assert.deepEqual(
    events.slice(-2).map((event) => event.type),
    ["batch", "end"],
  );
});

test("train: an LSTM with burn-in and truncated BPTT learns a nonlinear filter", async () => {
  const parts = makeParts(2, { nonlinear: true });
  const model = createModel({ architecture: "lstm", hidden: 6 }, { seed: 1 });
  const burnIn = 32;
  const result = await train({
    model,
    parts,
    epochs: 6,
    batchSize: 8,
    learningRate: 0.02,
    windowLength: 128,
    burnIn,
    truncate: 32,
    overlap: 2,
    loss: {
      type: "sum",
      maskFirst: 4096, // replaced by burnIn: the trainer masks exactly the burn-in
      terms: [
        { weight: 1, loss: { type: "esr" } },
        { weight: 1, loss: { type: "dc" } },
      ],
    },
  });
  assert.ok(
    result.bestEsr! < result.initialValidation!.esr / 5 && result.bestEsr! < 0.05,
    `best ESR ${result.bestEsr} (untrained ${result.initialValidation!.esr})`,
  );
  assert.equal(validationEsr(model, parts, burnIn), result.bestEsr);
});

/**
 * The truncated-BPTT gradient, by finite differences of a hand-built objective: chunk k's outputs are
 * recomputed with perturbed parameters from the unperturbed state at its start, every other chunk keeps its
 * unperturbed outputs (so no gradient crosses a chunk boundary), and the per-chunk derivatives add up.
 */
function handRolledGradient(
  model: Model,
  lossConfig: LossConfig,
  x: Float64Array,
  y: Float64Array,
  rows: number,
  burnIn: number,
  truncate: number,
): Float64Array {
  const length = x.length / rows;
  const bounds: [number, number][] = [];
  for (let s = 0; s < burnIn; s += truncate) bounds.push([s, Math.min(burnIn, s + truncate)]);
  const firstGradient = bounds.length;
  for (let s = burnIn; s < length; s += truncate) bounds.push([s, Math.min(length, s + truncate)]);
  const loss = createLoss({ ...lossConfig, maskFirst: burnIn });
  const slice = (data: Float64Array, from: number, to: number): Float64Array => {
    const out = new Float64Array(rows * (to - from));
    for (let r = 0; r < rows; r++)
      out.set(data.subarray(r * length + from, r * length + to), r * (to - from));
    return out;
  };
  /** Runs chunks 0..last in order with the state carried; returns each chunk's output. */
  const run = (last: number, before: () => void, during: () => void): Float64Array[] => {
    model.resetState();
    model.setCarryState(true);
    const outputs: Float64Array[] = [];
    for (let c = 0; c <= last; c++) {
      if (c === last) during();
      else before();
      const [from, to] = bounds[c]!;
      const out = model.forward({ data: slice(x, from, to), batch: rows, channels: 1, length: to - from });
      outputs.push(Float64Array.from(out.data));
    }
    return outputs;
  };
  const values = model.parameters.values as Float64Array;
  const theta = Float64Array.from(values);
  const reference = run(
    bounds.length - 1,
    () => {},
    () => {},
  );
  const assemble = (chunks: Float64Array[]): Float64Array => {
    const full = new Float64Array(rows * length);
    chunks.forEach((chunk, c) => {
      const [from, to] = bounds[c]!;
      for (let r = 0; r < rows; r++)
        full.set(chunk.subarray(r * (to - from), (r + 1) * (to - from)), r * length + from);
    });
    return full;
  };
  const gradient = new Float64Array(values.length);
  const eps = 1e-6;
  for (let c = firstGradient; c < bounds.length; c++) {
    for (let i = 0; i < values.length; i++) {
      const objective = (delta: number): number => {
        const perturbed = Float64Array.from(theta);
        perturbed[i] = perturbed[i]! + delta;
        const outputs = run(
          c,
          () => values.set(theta),
          () => values.set(perturbed),
        );
        const chunks = reference.slice();
        chunks[c] = outputs[c]!;
        values.set(theta);
        return loss.forward(assemble(chunks), y, { batch: rows, channels: 1, length });
      };
      gradient[i] = gradient[i]! + (objective(eps) - objective(-eps)) / (2 * eps);
    }
  }
  return gradient;
}

test("truncated BPTT: the trainer's gradient equals a hand-rolled truncated gradient", () => {
  const rng = new Rng(3);
  const rows = 2;
  const burnIn = 3;
  const length = burnIn + 10;
  const lossConfig: LossConfig = {
    type: "sum",
    terms: [
      { weight: 1, loss: { type: "esr", preEmphasis: { type: "highpass", coefficient: 0.85 } } },
      { weight: 0.5, loss: { type: "dc" } },
    ],
  };
  const x = Float64Array.from({ length: rows * length }, () => rng.uniform(-1, 1));
  const y = x.map((v) => Math.tanh(1.5 * v));
  for (const config of [
    { architecture: "lstm", hidden: 2 },
    { architecture: "gru", hidden: 2, layers: 2 },
  ]) {
    for (const truncate of [4, 20]) {
      const model = createModel(config, { seed: 4, floatType: "float64" });
      const computer = new GradientComputer(model, createLoss({ ...lossConfig, maskFirst: burnIn }), {
        burnIn,
        truncate,
      });
      const value = computer.compute(x, y, rows, 1, length);
      assert.ok(Number.isFinite(value));
      const analytic = Float64Array.from(model.parameters.grads);
      const numeric = handRolledGradient(model, lossConfig, x, y, rows, burnIn, truncate);
      for (let i = 0; i < analytic.length; i++) {
        const tolerance = 1e-7 + 1e-5 * Math.max(Math.abs(analytic[i]!), Math.abs(numeric[i]!));
        assert.ok(
          Math.abs(analytic[i]! - numeric[i]!) <= tolerance,
          `${config.architecture} truncate ${truncate}, parameter ${i}: ${analytic[i]} vs ${numeric[i]}`,
        );
      }
      if (truncate === 4) {
        // Truncation matters: the untruncated gradient differs.
        const full = createModel(config, { seed: 4, floatType: "float64" });
        new GradientComputer(full, createLoss({ ...lossConfig, maskFirst: burnIn }), {
          burnIn,
          truncate: 100,
        }).compute(x, y, rows, 1, length);
        const difference = Array.from(full.parameters.grads).reduce(
          (sum, g, i) => sum + Math.abs(g - analytic[i]!),
          0,
        );
        assert.ok(difference > 1e-4, `truncated vs full gradient differ by ${difference}`);
      }
    }
  }
});

test("train: a microBatch budget picks windows per pass from one window's measured activations", async () => {
  const parts = makeParts(2);
  const windowsPerPass = async (microBatch: TrainOptions["microBatch"]) => {
    const model = createModel({ architecture: "tcn", width: 4, dilations: [1, 2, 4] }, { seed: 1 });
    let passes = 0;
    await train({
      ...linearBase,
      epochs: 1,
      model,
      parts,
      ...(microBatch === undefined ? {} : { microBatch }),
      onEvent: (event) => {
        if (event.type === "start") passes = event.windowsPerPass;
      },
    });
    return passes;
  };
  assert.equal(await windowsPerPass(undefined), linearBase.batchSize);
  assert.equal(await windowsPerPass(3), 3);
  assert.equal(await windowsPerPass({ budgetBytes: 1e9 }), linearBase.batchSize);
  assert.equal(await windowsPerPass({ budgetBytes: 0 }), 1);
  // One window of this TCN allocates ~30 [1, <= 8, <= 142] float32 buffers (76 kB): 300 kB holds 3 or 4.
  const few = await windowsPerPass({ budgetBytes: 300_000 });
  assert.ok(few > 1 && few < linearBase.batchSize, `${few} windows per pass`);
  await assert.rejects(windowsPerPass(0), /microBatch must be a whole number >= 1/);
});
