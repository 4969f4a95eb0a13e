import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decodeWav } from "../../src/audio/wav.ts";
import { preparePair } from "../../src/data/pair.ts";
import { middleSplit, type TestScore, testCell, trainCell } from "../../src/experiment/cell.ts";
import { findPreset } from "../../src/nn/models/presets.ts";
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
 * The study's own low-pass experiment, redone with the study runner's cell functions (src/experiment/cell.ts,
 * what `deepsp experiment` runs per cell): train on its sine and square sweeps (stereo files, channels split
 * into mono windows; 40-50% of each sweep held out for validation: the end of a sweep is all above the
 * cutoff, where the target is nearly silent and ESR means little), test on its piano recording
 * (Beethoven op. 10 no. 1) with the streaming runtime, each architecture for the same wall-clock budget with
 * its preset's recipe. The study's best network scored ESR 0.086 on this test; passing the input through
 * scores 0.057. `deepsp experiment --config experiments/study-seed.json` runs the same protocol (first
 * channel only) next to the pedal recordings and built-in effects.
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
    const parts = ["sin", "square"].map((name) => middleSplit(name, load(name), { start: 0.4, end: 0.5 }));
    const piano = load("beethoven");
    const figures: Figure[] = [];
    let identity: TestScore | null = null;
    for (const name of PRESETS) {
      const preset = findPreset(name);
      const { model, summary } = await trainCell({
        preset: name,
        overrides: { windowLength: Math.min(preset.training.windowLength, 4096) },
        parts,
        seed: 1,
        epochs: 1000,
        seconds: BUDGET_SECONDS,
      });
      const score = testCell(model, piano);
      identity ??= score;
      figures.push({
        name: `${name}: piano test ESR`,
        value: score.comparison.model.esr,
        unit: "ESR",
        note:
          `${summary.parameters} parameters, ${summary.epochs} epochs in ${summary.trainingSeconds.toFixed(0)} s, ` +
          `best validation ESR ${summary.validationEsr?.toExponential(2)}, real-time factor ${score.realTimeFactor.toFixed(3)}`,
      });
    }
    return [
      {
        name: "piano: passing the input through",
        value: identity?.comparison.identity.esr ?? Number.NaN,
        unit: "ESR",
        note: "the study's best network: 0.086",
      },
      ...figures,
    ];
  },
};
