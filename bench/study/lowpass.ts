import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decodeWav } from "../../src/audio/wav.ts";
import { preparePair } from "../../src/data/pair.ts";
import { splitFrames } from "../../src/data/split.ts";
import type { SplitPair } from "../../src/data/windows.ts";
import { findPreset } from "../../src/nn/models/presets.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { evaluate } from "../../src/train/evaluate.ts";
import { train } from "../../src/train/trainer.ts";
import type { Benchmark, Figure } from "../harness.ts";

const LOWPASS = fileURLToPath(new URL("../../../shared/data/deepsp-paper/lowpass/", import.meta.url));
const PRESETS = [
  "linear-256",
  "mlp-study",
  "seedconv-study",
  "tcn-small",
  "wavenet-nano",
  "lstm-16",
  "gru-16",
];
/** Training time per architecture, seconds (DEEPSP_STUDY_SECONDS overrides). */
const BUDGET_SECONDS = Number(process.env["DEEPSP_STUDY_SECONDS"] ?? 120);

/**
 * The study's own low-pass experiment, redone: train on its sine and square sweeps (stereo files, channels
 * split into mono windows; 40-50% of each sweep held out for validation: the end of a sweep is all above the
 * cutoff, where the target is nearly silent and ESR means little), test on its piano recording
 * (Beethoven op. 10 no. 1), each architecture for the same wall-clock budget with its preset's recipe.
 * The study's best network scored ESR 0.086 on this test; passing the input through scores 0.057.
 */
export const studyLowpassBench: Benchmark = {
  name: "study-lowpass",
  description: `the study's low-pass: train on its sweeps, test on its piano (${BUDGET_SECONDS} s per architecture)`,
  slow: true,
  async run() {
    if (!existsSync(LOWPASS))
      return [{ name: "study-lowpass", value: Number.NaN, unit: "", note: "../shared/data absent: skipped" }];
    const load = (name: string) => {
      const read = (folder: string) => decodeWav(readFileSync(`${LOWPASS}${folder}/${name}.wav`)).audio;
      return preparePair(read("pre"), read("post"), { align: "none" }).pair;
    };
    const parts: SplitPair[] = ["sin", "square"].map((name) => {
      const pair = load(name);
      const frames = pair.input.channels[0]!.length;
      return {
        name,
        pair,
        split: splitFrames(frames, pair.input.sampleRate, {
          kind: "fractions",
          train: 0.9,
          validation: 0.1,
          test: 0,
        }),
      };
    });
    const piano = load("beethoven");
    const pianoRegion = [{ start: 0, end: piano.input.channels[0]!.length }];
    const figures: Figure[] = [
      {
        name: "piano: passing the input through",
        value: identityEsr(piano.input.channels, piano.target.channels),
        unit: "ESR",
        note: "the study's best network: 0.086",
      },
    ];
    for (const name of PRESETS) {
      const preset = findPreset(name);
      const model = createModel(preset.model, { seed: 1 });
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), BUDGET_SECONDS * 1000);
      const result = await train({
        model,
        parts,
        epochs: 1000,
        batchSize: preset.training.batchSize,
        learningRate: preset.training.learningRate,
        schedule: preset.training.schedule,
        loss: preset.training.loss,
        windowLength: Math.min(preset.training.windowLength, 4096),
        overlap: 1,
        stereo: "split",
        burnIn: preset.training.burnIn ?? 0,
        truncate: preset.training.truncate ?? null,
        seed: 1,
        signal: stop.signal,
      });
      clearTimeout(timer);
      const test = evaluate(model, piano, pianoRegion, { burnIn: preset.training.burnIn ?? 0 });
      figures.push({
        name: `${name}: piano test ESR`,
        value: test.esr,
        unit: "ESR",
        note: `${model.parameters.count} parameters, ${result.epochsRun} epochs in ${result.seconds.toFixed(0)} s, best validation ESR ${result.bestEsr?.toExponential(2)}`,
      });
    }
    return figures;
  },
};

function identityEsr(input: readonly Float32Array[], target: readonly Float32Array[]): number {
  let error = 0;
  let signal = 0;
  target.forEach((channel, c) => {
    for (let t = 0; t < channel.length; t++) {
      error += (channel[t]! - input[c]![t]!) ** 2;
      signal += channel[t]! ** 2;
    }
  });
  return error / signal;
}
