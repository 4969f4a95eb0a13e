// Child process of the training-memory benchmark: trains preset argv[2] on 10 minutes of stereo 48 kHz
// audio (split into mono rows) for argv[3] batches on two threads (windows per pass: argv[4], default as the
// CLI's --memory 1024 picks); prints its figures as JSON.
import { Rng } from "../../src/core/rng.ts";
import { splitFrames } from "../../src/data/split.ts";
import { findPreset } from "../../src/nn/models/presets.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { createParallelGradients } from "../../src/node/parallel/gradients.ts";
import { enableRelaxedSimd } from "../../src/node/wasm.ts";
import { activationBudget, train } from "../../src/train/trainer.ts";

enableRelaxedSimd();
const [presetName = "lstm-16", batchesArg = "20", microBatchArg] = process.argv.slice(2);
const batches = Number(batchesArg);
const rate = 48000;
const frames = 10 * 60 * rate;
const megabytes = () => process.resourceUsage().maxRSS / 1024;

const rng = new Rng(1);
const channel = () => {
  const samples = new Float32Array(frames);
  for (let n = 0; n < frames; n++) samples[n] = rng.uniform(-0.5, 0.5);
  return samples;
};
const input = [channel(), channel()];
// A target the model can see: the input through a soft clipper.
const target = input.map((samples) => samples.map((x) => Math.tanh(3 * x)));
const pair = { input: { sampleRate: rate, channels: input }, target: { sampleRate: rate, channels: target } };
const withAudio = megabytes();

const parts = [{ name: "take", pair, split: splitFrames(frames, rate) }];
const preset = findPreset(presetName)!;
const model = createModel(preset.model, { seed: 1 });
const abort = new AbortController();
let seen = 0;
const start = performance.now();
let trainStart = 0;
let windowsPerPass = 0;
await train({
  ...preset.training,
  // As the CLI's default --memory 1024 does, unless argv[4] gives windows per pass.
  microBatch: microBatchArg ? Number(microBatchArg) : { budgetBytes: activationBudget(2 ** 30, parts, 2) },
  epochs: 1,
  overlap: 1,
  stereo: "split",
  model,
  parts,
  gradients: (setup) => createParallelGradients(setup, 2),
  signal: abort.signal,
  onEvent: (event) => {
    if (event.type === "start") windowsPerPass = event.windowsPerPass;
    if (event.type === "epoch-start") trainStart = performance.now();
    if (event.type === "batch" && ++seen >= batches) abort.abort();
  },
});
const trainMs = performance.now() - trainStart;
const peak = megabytes();

console.log(
  JSON.stringify([
    {
      name: `${presetName}: RSS with the pair in memory`,
      value: withAudio,
      unit: "MB",
      note: "audio alone: 461 MB",
    },
    {
      name: `${presetName}: peak RSS training (2 threads)`,
      value: peak,
      unit: "MB",
      note: `goal < 1024 MB; ${windowsPerPass} window(s) per pass; ${seen} batches of ${preset.training.batchSize} in ${(trainMs / 1000).toFixed(1)} s, ${((performance.now() - start) / 1000).toFixed(1)} s with the first validation`,
    },
  ]),
);
