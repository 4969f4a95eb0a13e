import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { deepsp } from "../helpers/cli.ts";
import { writeTrainingPairs } from "../helpers/material.ts";

// The bar, through the CLI on generated material: on a held-out test region, linear / tcn / lstm reach
// ESR < 1e-3 on a low-pass biquad, and tcn / lstm reach ESR < 0.01 on a tanh drive (gain 10) after it.
const dir = mkdtempSync(join(tmpdir(), "deepsp-targets-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const pairs = writeTrainingPairs(dir);

const COMMON = [
  "--split",
  "0.7,0.15,0.15",
  "--align",
  "none",
  "--window",
  "1024",
  "--overlap",
  "4",
  "--batch-size",
  "4",
  "--quiet",
];
const MSE = ["--loss", '{"type":"mse"}', "--lr-decay", "0.9"];
const TCN = [
  "--model-config",
  JSON.stringify({ architecture: "tcn", width: 8, dilations: [1, 2, 4, 8, 16, 32, 64] }),
  ...MSE,
  "--lr",
  "0.004",
];
// The LSTM keeps its preset's loss (ESR on the pre-emphasised signal + DC, burn-in masked).
const LSTM = [
  "--preset",
  "lstm-16",
  "--burn-in",
  "128",
  "--lr",
  "0.005",
  "--lr-decay",
  "0.95",
  "--clip-norm",
  "1",
];

function trainAndScore(name: string, target: string, args: string[]): { testEsr: number; identity: number } {
  const out = join(dir, `${name}.json`);
  const result = deepsp(dir, "train", "-i", pairs.input, "-t", target, ...COMMON, ...args, "-o", out);
  assert.equal(result.code, 0, `${name}: ${result.stderr}\n${result.stdout}`);
  const metrics = JSON.parse(readFileSync(out, "utf8")).metadata.metrics;
  return { testEsr: metrics.testEsr, identity: metrics.identityTestEsr };
}

test("linear on a low-pass: test ESR < 1e-3", () => {
  const { testEsr, identity } = trainAndScore("linear-lowpass", pairs.lowpass, [
    "--preset",
    "linear-64",
    "--epochs",
    "20",
  ]);
  assert.ok(testEsr < 1e-3, `test ESR ${testEsr} (identity ${identity})`);
});

test("tcn on a low-pass: test ESR < 1e-3", () => {
  const { testEsr, identity } = trainAndScore("tcn-lowpass", pairs.lowpass, [...TCN, "--epochs", "16"]);
  assert.ok(testEsr < 1e-3, `test ESR ${testEsr} (identity ${identity})`);
});

test("lstm on a low-pass: test ESR < 1e-3", () => {
  const { testEsr, identity } = trainAndScore("lstm-lowpass", pairs.lowpass, [...LSTM, "--epochs", "24"]);
  assert.ok(testEsr < 1e-3, `test ESR ${testEsr} (identity ${identity})`);
});

test("tcn on a tanh drive after the low-pass: test ESR < 0.01", () => {
  const { testEsr, identity } = trainAndScore("tcn-drive", pairs.drive, [...TCN, "--epochs", "10"]);
  assert.ok(testEsr < 0.01, `test ESR ${testEsr} (identity ${identity})`);
});

test("lstm on a tanh drive after the low-pass: test ESR < 0.01", () => {
  const { testEsr, identity } = trainAndScore("lstm-drive", pairs.drive, [...LSTM, "--epochs", "20"]);
  assert.ok(testEsr < 0.01, `test ESR ${testEsr} (identity ${identity})`);
});
