import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { encodeWav } from "../../src/audio/wav.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { writeModelFile } from "../../src/node/model-files.ts";
import { deepsp as run } from "../helpers/cli.ts";
import { missingShared, sharedPath } from "../helpers/shared.ts";
import { delay, noise } from "../helpers/signals.ts";

const RATE = 48000;
const dir = mkdtempSync(join(tmpdir(), "deepsp-eval-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const deepsp = (...args: string[]) => run(dir, "eval", ...args);
const x = noise(RATE, 21, 0.1);
const sumSquares = (a: Float32Array) => a.reduce((sum, v) => sum + v * v, 0);

function writeWav(name: string, channels: Float32Array[], sampleRate = RATE): void {
  writeFileSync(join(dir, name), encodeWav({ sampleRate, channels }, { encoding: "float32" }));
}

/** A linear model with one tap: y[t] = gain * x[t], exactly (a power-of-two gain is exact in float32). */
async function writeGainModel(name: string, gain: number, sampleRate = RATE): Promise<void> {
  const model = createModel({ architecture: "linear", taps: 1, bias: false });
  model.parameters.value("fir.weight")[0] = gain;
  await writeModelFile(join(dir, name), { model, sampleRate });
}

before(async () => {
  writeWav("input.wav", [x]);
  writeWav("target.wav", [x]);
  writeWav("delayed.wav", [delay(x, 100)]); // the target lags the input by 100 samples
  writeWav("target-44k.wav", [x], 44100);
  await writeGainModel("half.json", 0.5);
  await writeGainModel("half-44k.json", 0.5, 44100);
  writeFileSync(join(dir, "amp.nam"), "{}");
});

interface EvalJson {
  [key: string]: unknown;
  bands: { center_hz: number; low_hz: number; high_hz: number; esr: number; identity_esr: number }[];
}

function evalJson(...args: string[]): EvalJson {
  const result = deepsp(...args, "--json");
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as EvalJson;
}

function close(actual: unknown, expected: number, tolerance: number, what: string): void {
  assert.equal(typeof actual, "number", what);
  assert.ok(
    Math.abs((actual as number) - expected) <= tolerance,
    `${what}: expected ${expected} +- ${tolerance}, got ${actual}`,
  );
}

/** A failure is one clear line on stderr and a non-zero exit. */
function assertFails(result: ReturnType<typeof deepsp>, pattern: RegExp): void {
  assert.notEqual(result.code, 0);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, pattern);
}

test("a gain-0.5 model against target = input: every JSON score by hand", () => {
  const json = evalJson("-m", "half.json", "-i", "input.wav", "-t", "target.wav");
  // e = x - 0.5 x = 0.5 x:  ESR = 0.25 exactly, SNR = 10 log10 4, MSE = 0.25 mean x^2.
  close(json["esr"], 0.25, 1e-12, "esr");
  close(json["esr_pre_emphasis"], 0.25, 1e-12, "esr_pre_emphasis");
  close(json["snr_db"], 10 * Math.log10(4), 1e-9, "snr_db");
  close(json["mse"], (0.25 * sumSquares(x)) / RATE, 1e-12, "mse");
  close(json["rmse"], Math.sqrt((0.25 * sumSquares(x)) / RATE), 1e-12, "rmse");
  // MR-STFT: spectral convergence ||Y - Y/2|| / ||Y|| = 0.5 plus log magnitude |ln 2|.
  close(json["mrstft"], 0.5 + Math.log(2), 1e-5, "mrstft");
  close(json["log_spectral_distance_db"], 10 * Math.log10(4), 1e-5, "log_spectral_distance_db");
  close(json["loudness_difference_db"], 20 * Math.log10(0.5), 1e-6, "loudness_difference_db");
  // Identity: the input is the target.
  assert.equal(json["identity_esr"], 0);
  assert.equal(json["identity_mse"], 0);
  assert.equal(json["identity_mrstft"], 0);
  assert.equal(json["identity_snr_db"], null, "infinite SNR is null in JSON");
  assert.equal(json["identity_loudness_difference_db"], 0);
  assert.equal(json["sample_rate"], RATE);
  assert.equal(json["frames"], RATE);
  assert.equal(json["delay_samples"], 0);
  assert.deepEqual(json["mrstft_fft_sizes"], [1024, 2048, 512]);
  assert.equal(json.bands.length, 10);
  for (const band of json.bands) {
    close(band.esr, 0.25, 1e-9, `band ${band.center_hz}`);
    assert.equal(band.identity_esr, 0);
  }
  // Every scalar metric has its identity twin.
  for (const key of Object.keys(json)) {
    if (key.startsWith("identity_")) assert.ok(key.slice(9) in json, key);
  }
});

test("the target's latency is detected and removed, or given, or left in", () => {
  const detected = evalJson("-m", "half.json", "-i", "input.wav", "-t", "delayed.wav");
  assert.equal(detected["delay_samples"], 100);
  assert.equal(detected["delay_source"], "detected");
  assert.equal(detected["frames"], RATE - 100);
  close(detected["esr"], 0.25, 1e-12, "aligned esr");
  assert.equal(detected["identity_esr"], 0);

  const given = evalJson("-m", "half.json", "-i", "input.wav", "-t", "delayed.wav", "--align", "100");
  assert.equal(given["delay_source"], "given");
  close(given["esr"], 0.25, 1e-12, "given esr");

  // Not aligned: e[n] = x[n - 100] - 0.5 x[n], white noise uncorrelated at lag 100, so
  // ESR = (sum x^2 + 0.25 sum x^2) / sum x^2 = 1.25 up to the correlation estimate.
  const none = evalJson("-m", "half.json", "-i", "input.wav", "-t", "delayed.wav", "--align", "none");
  assert.equal(none["delay_samples"], 0);
  close(none["esr"], 1.25, 0.03, "unaligned esr");
});

test("--region scores only that part, on the aligned timeline", () => {
  const json = evalJson("-m", "half.json", "-i", "input.wav", "-t", "delayed.wav", "--region", "0.25-0.75");
  assert.equal(json["frames"], 24000);
  assert.deepEqual(json["region"], { start_seconds: 0.25, end_seconds: 0.75 });
  close(json["esr"], 0.25, 1e-12, "esr");
  assertFails(
    deepsp("-m", "half.json", "-i", "input.wav", "-t", "target.wav", "--region", "0.5-2"),
    /^deepsp: --region 0\.5-2: the aligned pair has 1\.000 s/,
  );
  assertFails(
    deepsp("-m", "half.json", "-i", "input.wav", "-t", "target.wav", "--region", "abc"),
    /^deepsp: --region must be "start-end"/,
  );
});

test("a mono model runs on each channel of a stereo pair", () => {
  const right = noise(RATE, 22, 0.05);
  writeWav("stereo-in.wav", [x, right]);
  writeWav("stereo-target.wav", [x, right.map((v) => 0.5 * v)]);
  const json = evalJson(
    "-m",
    "half.json",
    "-i",
    "stereo-in.wav",
    "-t",
    "stereo-target.wav",
    "--align",
    "none",
  );
  // Left: error 0.5 x; right: output 0.5 r equals the target. Sums over both channels:
  const expected = (0.25 * sumSquares(x)) / (sumSquares(x) + 0.25 * sumSquares(right));
  close(json["esr"], expected, 1e-9, "stereo esr");
  close(
    json["identity_esr"],
    (0.25 * sumSquares(right)) / (sumSquares(x) + 0.25 * sumSquares(right)),
    1e-9,
    "id",
  );
  assert.equal(json["channels"], 2);
});

test("the table: metric, model, identity, with the delay printed", () => {
  const result = deepsp("-m", "half.json", "-i", "input.wav", "-t", "delayed.wav");
  assert.equal(result.code, 0, result.stderr);
  const out = result.stdout;
  assert.match(out, /^delay: {2}100 samples \(2\.08 ms\) between input and target/m);
  assert.match(out, /^scored: 47900 frames \(0\.998 s\) at 48000 Hz, 1 channel\(s\)/m);
  assert.match(out, /^metric\s+model\s+identity$/m);
  assert.match(out, /^ESR\s+0\.2500\s+0$/m);
  assert.match(out, /^SNR \(dB\)\s+6\.02\s+inf$/m);
  assert.match(out, /^MR-STFT\s+1\.193\s+0$/m);
  assert.match(out, /^log-spectral distance \(dB\)\s+6\.02\s+0\.00$/m);
  assert.match(out, /^loudness difference \(dB\)\s+-6\.02\s+0\.00$/m);
  assert.match(out, /^ESR 1 kHz band\s+0\.2500\s+0$/m);
  assert.match(out, /^ESR 31\.25 Hz band\s+0\.2500\s+0$/m);
});

test("--report writes an HTML report with the model card, the scores and the scored audio", () => {
  const json = evalJson("-m", "half.json", "-i", "input.wav", "-t", "delayed.wav", "--report", "report");
  assert.equal(json["report"], join("report", "index.html"));
  const html = readFileSync(join(dir, "report", "index.html"), "utf8");
  assert.match(html, /half: linear, evaluated/);
  const files = readdirSync(join(dir, "report"));
  for (const audio of ["input", "target", "output", "residual"]) {
    const name = files.find((file) => file.startsWith(audio) && file.endsWith(".wav"));
    assert.ok(name, `${audio} audio in ${files.join(", ")}`);
    assert.match(html, new RegExp(`src="${name}"`));
  }
  // The scored output is the model's: half the target, so the residual is the other half (ESR 0.25 here).
  assert.match(html, /data-metric="esr"><th>ESR<\/th><td class="num model" data-value="0\.25"/);
  const text = deepsp("-m", "half.json", "-i", "input.wav", "-t", "target.wav", "--report", "again");
  assert.match(text.stdout, /^report: again[/\\]index\.html$/m);
});

const NAM = "nam-reference/";

test("a .nam model plays through NAM's player: scored against NAM core's own render, ESR ~ 0", {
  skip: missingShared(NAM),
}, () => {
  const reference = (name: string) => new Float32Array(readFileSync(sharedPath(NAM + name)).buffer.slice(0));
  writeWav("nam-input.wav", [reference("input.f32")]);
  for (const model of ["lstm", "A2"]) {
    writeWav(`${model}-core.wav`, [reference(`out/${model}.bs64.f32`)]);
    const json = evalJson(
      "-m",
      sharedPath(`${NAM}models/${model}.nam`),
      "-i",
      "nam-input.wav",
      "-t",
      `${model}-core.wav`,
      "--align",
      "none",
      "--block",
      "64",
    );
    assert.match(String(json["architecture"]), /^\.nam /);
    assert.ok((json["esr"] as number) < 1e-8, `${model}: ESR ${json["esr"]}`);
    assert.ok((json["identity_esr"] as number) > 0.01, `${model}: identity ESR ${json["identity_esr"]}`);
  }
});

test("one-line errors: unknown model files, missing files, rate mismatches", () => {
  assertFails(
    deepsp("-m", "amp.nam", "-i", "input.wav", "-t", "target.wav"),
    /^deepsp: amp\.nam: not a model file deepsp knows/,
  );
  assertFails(
    deepsp("-m", "half.json", "-i", "missing.wav", "-t", "target.wav"),
    /^deepsp: cannot read missing\.wav: no such file/,
  );
  assertFails(
    deepsp("-m", "nothing.json", "-i", "input.wav", "-t", "target.wav"),
    /^deepsp: cannot read nothing\.json: no such file/,
  );
  assertFails(
    deepsp("-m", "half.json", "-i", "input.wav", "-t", "target-44k.wav"),
    /^deepsp: input\.wav is 48000 Hz but target-44k\.wav is 44100 Hz: sample rates must match/,
  );
  assertFails(
    deepsp("-m", "half-44k.json", "-i", "input.wav", "-t", "target.wav"),
    /^deepsp: input\.wav is 48000 Hz but the model was trained at 44100 Hz/,
  );
  assertFails(
    deepsp("-m", "half.json", "-i", "input.wav", "-t", "target.wav", "--align", "sideways"),
    /^deepsp: --align must be "detect", "none" or a whole number of samples/,
  );
});
