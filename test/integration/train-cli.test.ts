import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { decodeWav, encodeWav } from "../../src/audio/wav.ts";
import { deepsp } from "../helpers/cli.ts";
import { writeTrainingPairs } from "../helpers/material.ts";

const dir = mkdtempSync(join(tmpdir(), "deepsp-train-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const pairs = writeTrainingPairs(dir);
const COMMON = [
  "-i",
  pairs.input,
  "-t",
  pairs.lowpass,
  "--split",
  "0.7,0.15,0.15",
  "--align",
  "none",
  "--window",
  "1024",
  "--overlap",
  "2",
  "--quiet",
];

function train(name: string, ...args: string[]) {
  const out = join(dir, `${name}.json`);
  const result = deepsp(dir, "train", ...COMMON, ...args, "-o", out);
  assert.equal(result.code, 0, `${name}: ${result.stderr}\n${result.stdout}`);
  return { out, file: JSON.parse(readFileSync(out, "utf8")), stdout: result.stdout };
}

test("every other architecture trains through the CLI and beats passing the input through", () => {
  const more = ["--overlap", "8", "--batch-size", "8"];
  const runs: [string, string[]][] = [
    [
      "mlp",
      [
        "--model-config",
        '{"architecture":"mlp","window":32,"hidden":[16,16]}',
        "--epochs",
        "3",
        "--lr",
        "0.005",
      ],
    ],
    [
      "seedconv",
      [
        "--model-config",
        '{"architecture":"seedconv","filters":8,"kernelSize":16}',
        "--epochs",
        "3",
        "--lr",
        "0.003",
      ],
    ],
    ["wavenet", ["--preset", "wavenet-nano", "--loss", '{"type":"mse"}', "--epochs", "2"]],
    ["gru", ["--preset", "gru-16", "--burn-in", "128", "--epochs", "3", "--lr", "0.005"]],
  ];
  for (const [name, args] of runs) {
    const { file, stdout } = train(name, ...more, ...args);
    assert.equal(file.architecture, name);
    const { testEsr, identityTestEsr } = file.metadata.metrics;
    assert.ok(testEsr < 0.3 * identityTestEsr, `${name}: test ESR ${testEsr} vs identity ${identityTestEsr}`);
    assert.match(stdout, /best validation ESR .* at epoch \d/);
  }
});

test("--resume continues a run to the same weights as an uninterrupted one", () => {
  const straight = train("straight", "--preset", "linear-64", "--epochs", "4");
  const partial = train("resumed", "--preset", "linear-64", "--epochs", "2");
  assert.equal(partial.file.metadata.training.epochs, 2);
  const runDir = join(dir, "resumed.run");
  const again = deepsp(
    dir,
    "train",
    ...COMMON,
    "--preset",
    "linear-64",
    "--epochs",
    "2",
    "-o",
    join(dir, "resumed.json"),
  );
  assert.notEqual(again.code, 0, "an existing run is not silently restarted");
  assert.match(again.stderr, /already exists|has checkpoints/);
  const resumed = deepsp(
    dir,
    "train",
    ...COMMON,
    "--preset",
    "linear-64",
    "--epochs",
    "4",
    "--run-dir",
    runDir,
    "--resume",
    "-o",
    join(dir, "resumed.json"),
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  const file = JSON.parse(readFileSync(join(dir, "resumed.json"), "utf8"));
  assert.equal(file.metadata.training.epochs, 4);
  assert.equal(file.weights, straight.file.weights);
});

test("process runs a trained model over a file exactly as evaluation scored it, per channel for stereo", () => {
  const { out, file } = train("linear-for-process", "--preset", "linear-64", "--epochs", "3");
  const stereoIn = join(dir, "stereo-in.wav");
  const mono = decodeWav(readFileSync(pairs.input)).audio;
  const reversed = mono.channels[0]!.slice().reverse();
  writeFileSync(
    stereoIn,
    encodeWav({ sampleRate: mono.sampleRate, channels: [mono.channels[0]!, reversed] }),
  );
  const processed = join(dir, "processed.wav");
  const result = deepsp(dir, "process", "-m", out, "--in", stereoIn, "-o", processed, "--block", "333");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /real time, block 333/);
  const output = decodeWav(readFileSync(processed)).audio;
  assert.equal(output.channels.length, 2);
  // The test region is the last 15%; evaluation scores it from receptiveField - 1 samples in.
  const target = decodeWav(readFileSync(pairs.lowpass)).audio.channels[0]!;
  const frames = target.length;
  const start = frames - Math.round(0.15 * frames) + file.receptiveField - 1;
  let error = 0;
  let signal = 0;
  for (let t = start; t < frames; t++) {
    error += (target[t]! - output.channels[0]![t]!) ** 2;
    signal += target[t]! ** 2;
  }
  const esr = error / signal;
  assert.ok(
    Math.abs(esr - file.metadata.metrics.testEsr) <= 1e-6 * file.metadata.metrics.testEsr,
    `${esr} vs ${file.metadata.metrics.testEsr}`,
  );
  // Channel 2 is the same model on the reversed input: its own state, its own output.
  const alone = join(dir, "reversed-out.wav");
  writeFileSync(join(dir, "reversed.wav"), encodeWav({ sampleRate: mono.sampleRate, channels: [reversed] }));
  assert.equal(deepsp(dir, "process", "-m", out, "--in", join(dir, "reversed.wav"), "-o", alone).code, 0);
  assert.deepEqual(decodeWav(readFileSync(alone)).audio.channels[0], output.channels[1]);
  const wrongRate = join(dir, "rate.wav");
  writeFileSync(wrongRate, encodeWav({ sampleRate: 16000, channels: [mono.channels[0]!] }));
  const refused = deepsp(dir, "process", "-m", out, "--in", wrongRate, "-o", join(dir, "never.wav"));
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /16000 Hz but the model was trained at 8000 Hz \(add --resample\)/);
});
