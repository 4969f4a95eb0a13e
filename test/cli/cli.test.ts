import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeWav, encodeWav } from "../../src/audio/wav.ts";

const BIN = fileURLToPath(new URL("../../bin/deepsp.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "deepsp-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function deepsp(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: dir });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A failure is one clear line on stderr and a non-zero exit. */
function assertFails(result: ReturnType<typeof deepsp>, pattern: RegExp): void {
  assert.notEqual(result.code, 0);
  const lines = result.stderr.trim().split("\n");
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
}

test("--help works for every command and every material kind", () => {
  const top = deepsp("--help");
  assert.equal(top.code, 0);
  const commands = [
    "demo",
    "generate",
    "material",
    "pair",
    "train",
    "presets",
    "process",
    "eval",
    "report",
    "experiment",
    "info",
  ];
  for (const command of commands) assert.match(top.stdout, new RegExp(`\\b${command}\\b`));
  for (const command of [...commands.filter((c) => c !== "material").map((c) => [c]), ["material", "list"]]) {
    const help = deepsp(...command, "--help");
    assert.equal(help.code, 0, command.join(" "));
    assert.match(help.stdout, /^Usage: deepsp /);
  }
  const kinds = JSON.parse(deepsp("material", "list", "--json").stdout) as {
    name: string;
    options: string[];
  }[];
  assert.ok(kinds.length >= 13);
  for (const kind of kinds) {
    const help = deepsp("generate", kind.name, "--help");
    assert.equal(help.code, 0, kind.name);
    for (const option of kind.options) {
      const flag = `--${option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
      assert.ok(help.stdout.includes(flag), `${kind.name} help lists ${flag}`);
    }
  }
});

test("generate writes the WAV it describes, with typed flags reaching the generator", () => {
  const out = join(dir, "saw.wav");
  const result = deepsp(
    "generate",
    "sweep",
    "--waveform",
    "sawtooth",
    "--seconds",
    "0.5",
    "--sample-rate",
    "44100",
    "--channels",
    "2",
    "--encoding",
    "pcm24",
    "-o",
    out,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /saw.wav: sweep, 2 ch, 44100 Hz, 0.500 s/);
  const { audio, format } = decodeWav(readFileSync(out));
  assert.equal(format.bitsPerSample, 24);
  assert.equal(audio.sampleRate, 44100);
  assert.equal(audio.channels.length, 2);
  assert.equal(audio.channels[0]!.length, 22050);
});

test("generate refuses to replace a file unless --force, and leaves it intact", () => {
  const out = join(dir, "mine.wav");
  writeFileSync(out, "my own work");
  assertFails(
    deepsp("generate", "noise", "--seconds", "0.1", "-o", out),
    /^deepsp: .*mine.wav already exists \(pass --force/,
  );
  assert.equal(readFileSync(out, "utf8"), "my own work");
  assert.equal(deepsp("generate", "noise", "--seconds", "0.1", "-o", out, "--force").code, 0);
  assert.equal(decodeWav(readFileSync(out)).audio.channels[0]!.length, 4800);
});

test("bad options fail with one line naming the field, and no file or temp file is left", () => {
  const before = readdirSync(dir).length;
  assertFails(
    deepsp("generate", "sweep", "--seconds", "-1", "-o", join(dir, "bad.wav")),
    /^deepsp: .*seconds.*got -1/,
  );
  assertFails(
    deepsp("generate", "sweep", "--waveform", "circle", "-o", join(dir, "bad.wav")),
    /argument 'circle' is invalid/,
  );
  assertFails(
    deepsp("generate", "sweep", "--bogus", "1", "-o", join(dir, "bad.wav")),
    /unknown option '--bogus'/,
  );
  assertFails(deepsp("generate", "wobble", "-o", join(dir, "bad.wav")), /unknown command 'wobble'/);
  assert.equal(readdirSync(dir).length, before);
});

test("pair reports the latency it finds; mismatched files fail with the reason", () => {
  const dry = join(dir, "dry.wav");
  assert.equal(deepsp("generate", "standard", "--seconds", "20", "-o", dry).code, 0);
  const { audio } = decodeWav(readFileSync(dry));
  // The "effect": half gain and 50 samples of latency, written back as a WAV by the library itself.
  const wet = join(dir, "wet.wav");
  const delayed = new Float32Array(audio.channels[0]!.length);
  delayed.set(
    audio.channels[0]!.subarray(0, delayed.length - 50).map((v) => v * 0.5),
    50,
  );
  writeFileSync(wet, encodeWav({ sampleRate: audio.sampleRate, channels: [delayed] }));
  const result = deepsp(
    "pair",
    "-i",
    dry,
    "-t",
    wet,
    "--json",
    "--window",
    "4096",
    "--split",
    "0.7,0.15,0.15",
  );
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.pair.delay.delaySamples, 50);
  assert.equal(report.split.regions.train[0].start, 0);
  assert.ok(report.roles.train.windows > 0);
  const text = deepsp("pair", "-i", dry, "-t", wet);
  assert.match(text.stdout, /delay: {2}50 samples \(1\.04 ms\), by onsets/);

  const other = join(dir, "other-rate.wav");
  assert.equal(deepsp("generate", "noise", "--seconds", "20", "--sample-rate", "44100", "-o", other).code, 0);
  assertFails(
    deepsp("pair", "-i", dry, "-t", other),
    /^deepsp: .*dry.wav is 48000 Hz but .*other-rate.wav is 44100 Hz/,
  );
  assertFails(
    deepsp("pair", "-i", dry, "-t", join(dir, "missing.wav")),
    /^deepsp: cannot read .*missing.wav: no such file/,
  );
  writeFileSync(join(dir, "text.wav"), "not audio at all");
  assertFails(deepsp("info", join(dir, "text.wav")), /^deepsp: .*text.wav: not a RIFF\/WAVE file/);
});

test("the demo captures a filter and a drive, evaluates them on held-out music and links the reports", () => {
  const out = join(dir, "demo");
  const result = deepsp("demo", "--out", out, "--seconds", "20", "--epochs", "1");
  assert.equal(result.code, 0, result.stderr);
  const page = join(out, "index.html");
  assert.match(result.stdout, new RegExp(`^report: ${page.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
  const html = readFileSync(page, "utf8");
  for (const effect of ["filter", "drive"]) {
    for (const link of ["model.run/report/index.html", "held-out-report/index.html", "model.json"]) {
      assert.ok(existsSync(join(out, effect, link)), `${effect}/${link}`);
      assert.match(html, new RegExp(`href="${effect}/${link}"`));
    }
    const file = JSON.parse(readFileSync(join(out, effect, "model.json"), "utf8"));
    assert.ok(file.metadata.training.data.effect, `${effect}: the effect chain is recorded with the model`);
  }
  // One epoch is enough for the FIR filter to beat passing the input through on music it never saw.
  const filter = /^filter\s+linear-256\s+held-out ESR (\S+) \(identity (\S+)\)/m.exec(result.stdout);
  assert.ok(filter, result.stdout);
  assert.ok(Number(filter[1]) < Number(filter[2]) / 2, filter[0]);
  // A second run into a folder the user named needs --force.
  assertFails(deepsp("demo", "--out", out, "--seconds", "20", "--epochs", "1"), /already exists/);
});
