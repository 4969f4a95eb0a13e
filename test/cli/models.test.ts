import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { decodeWav, encodeWav } from "../../src/audio/wav.ts";
import { findPreset } from "../../src/nn/models/presets.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { writeModelFile } from "../../src/node/model-files.ts";
import { deepsp as run } from "../helpers/cli.ts";
import { missingShared, sharedPath } from "../helpers/shared.ts";
import { noise } from "../helpers/signals.ts";

/** `deepsp inspect model`, `deepsp export` and `deepsp process` over deepsp, .nam and RTNeural files. */

const RATE = 48000;
const dir = mkdtempSync(join(tmpdir(), "deepsp-models-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const deepsp = (...args: string[]) => run(dir, ...args);

function ok(...args: string[]): string {
  const result = deepsp(...args);
  assert.equal(result.code, 0, `deepsp ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Runs `model` over x.wav with `deepsp process` and returns the output's channels. */
function processed(model: string, input = "x.wav"): readonly Float32Array[] {
  const out = `${basename(model)}.${input}`;
  ok("process", "-m", model, "--in", input, "-o", out, "--block", "64", "--force");
  return decodeWav(readFileSync(join(dir, out))).audio.channels;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((most, value, i) => Math.max(most, Math.abs(value - b[i]!)), 0);
}

before(async () => {
  const x = noise(RATE, 3, 0.3);
  writeFileSync(join(dir, "x.wav"), encodeWav({ sampleRate: RATE, channels: [x] }, { encoding: "float32" }));
  writeFileSync(
    join(dir, "stereo.wav"),
    encodeWav({ sampleRate: RATE, channels: [x, x.map((v) => -0.5 * v)] }, { encoding: "float32" }),
  );
  for (const preset of ["linear-64", "lstm-16", "lstm-16-nam", "wavenet-nano"]) {
    const model = createModel(findPreset(preset).model, { seed: 7 });
    await writeModelFile(join(dir, `${preset}.json`), {
      model,
      sampleRate: RATE,
      metadata: { name: preset },
    });
  }
});

test("inspect model describes a deepsp model file", () => {
  const facts = JSON.parse(ok("inspect", "model", "wavenet-nano.json", "--json"));
  assert.equal(facts.format, "deepsp");
  assert.equal(facts.architecture, "wavenet");
  assert.equal(facts.parameters, createModel(findPreset("wavenet-nano").model).parameters.count);
  assert.equal(facts.receptiveField, 4093);
  assert.equal(facts.sampleRate, RATE);
  assert.equal(facts.metadata.name, "wavenet-nano");
  assert.match(ok("inspect", "model", "lstm-16.json"), /^receptiveField\s+recurrent \(state\)$/m);
});

test("export to .nam and RTNeural, then play the exported files: the same output", () => {
  for (const [preset, to] of [
    ["linear-64", "nam"],
    ["wavenet-nano", "nam"],
    ["lstm-16-nam", "nam"],
    ["lstm-16", "rtneural"],
  ] as const) {
    const exported = `${preset}.${to === "nam" ? "nam" : "rtneural.json"}`;
    ok("export", "-m", `${preset}.json`, "--to", to, "-o", exported);
    const facts = JSON.parse(ok("inspect", "model", exported, "--json"));
    assert.equal(facts.format, to);
    const [original] = processed(`${preset}.json`);
    const [played] = processed(exported);
    // An exported LSTM starts from NAM's stored initial state (the state after silence, which deepsp's runtime
    // reaches from zero after a short while): compare after the first 0.1 s.
    const from = preset.startsWith("lstm") && to === "nam" ? 4800 : 0;
    const difference = maxDifference(original!.subarray(from), played!.subarray(from));
    assert.ok(difference < 1e-5, `${exported}: max difference ${difference}`);
  }
});

test("export refusals and bad files are one line naming the reason", () => {
  const skip = deepsp("export", "-m", "lstm-16.json", "--to", "nam", "-o", "skip.nam");
  assert.equal(skip.code, 1);
  assert.match(skip.stderr, /^deepsp: .*inputSkip: true.*NAM's LSTM has no input skip.*\n$/);
  const bad = deepsp("inspect", "model", "x.wav");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^deepsp: x\.wav: not a model file: [^\n]+\n$/);
  ok("export", "-m", "linear-64.json", "--to", "nam", "-o", "again.nam");
  const exists = deepsp("export", "-m", "linear-64.json", "--to", "nam", "-o", "again.nam");
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /already exists/);
});

const NAM = "nam-reference/models/";

test(".nam files: inspect, play per channel of a stereo file, import to deepsp", {
  skip: missingShared(NAM),
}, () => {
  const a2 = JSON.parse(ok("inspect", "model", sharedPath(`${NAM}A2.nam`), "--json"));
  assert.equal(a2.format, "nam");
  assert.equal(a2.architecture, ".nam SlimmableContainer");
  assert.equal(a2.parameters, 14017);
  assert.equal(a2.namVersion, "0.7.0");
  // A mono .nam model runs on each channel with its own state: channel 2 is -0.5 x channel 1 in, and the
  // model is nonlinear, so the outputs differ, but each equals the mono run of the same channel.
  const [left, right] = processed(sharedPath(`${NAM}A2.nam`), "stereo.wav");
  const [mono] = processed(sharedPath(`${NAM}A2.nam`));
  assert.equal(maxDifference(left!, mono!), 0);
  assert.ok(maxDifference(left!, right!) > 1e-3);
  const refused = deepsp("export", "-m", sharedPath(`${NAM}A2.nam`), "--to", "deepsp", "-o", "a2.json");
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /plays only through NAM's player/);
  ok("export", "-m", sharedPath(`${NAM}wavenet.nam`), "--to", "deepsp", "-o", "wavenet-imported.json");
  const [nam] = processed(sharedPath(`${NAM}wavenet.nam`));
  const [imported] = processed("wavenet-imported.json");
  // NAM's player prewarms; deepsp's runtime starts from silence, which is the same state for a WaveNet.
  assert.ok(maxDifference(nam!, imported!) < 1e-5);
});
