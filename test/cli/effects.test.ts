import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { decodeWav, encodeWav } from "../../src/audio/wav.ts";
import { formatChain, parseChain } from "../../src/effects/chain.ts";
import { deepsp } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "deepsp-effects-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("effects list shows every engine's effects with parameters, ranges and defaults", () => {
  const result = deepsp(dir, "effects", "list", "--json");
  assert.equal(result.code, 0, result.stderr);
  const effects = JSON.parse(result.stdout) as {
    name: string;
    engine: string;
    parameters: { name: string; min?: number; default?: unknown }[];
  }[];
  for (const engine of ["builtin", "webaudio", "sox", "lv2", "ffmpeg"])
    assert.ok(
      effects.some((effect) => effect.engine === engine),
      engine,
    );
  const lowpass = effects.find((effect) => effect.name === "lowpass")!;
  assert.deepEqual(
    lowpass.parameters.map((parameter) => parameter.name),
    ["cutoffHz", "q", "order"],
  );
  assert.equal(lowpass.parameters[0]!.default, 1000);
  const text = deepsp(dir, "effects", "list", "--engine", "builtin");
  assert.match(text.stdout, /^lowpass \(builtin\): /m);
  assert.match(text.stdout, /cutoffHz +number in \[0, inf\], default 1000: /);
  assert.doesNotMatch(text.stdout, /sox\./);
});

test("render applies a chain; bad chains fail with one line naming the problem", () => {
  const input = join(dir, "in.wav");
  const sine = Float32Array.from({ length: 4800 }, (_, n) => 0.5 * Math.sin((2 * Math.PI * 440 * n) / 48000));
  writeFileSync(input, encodeWav({ sampleRate: 48000, channels: [sine] }));
  const out = join(dir, "out.wav");
  const result = deepsp(
    dir,
    "render",
    "-e",
    "lowpass(cutoffHz=2000) | drive(gainDb=20, oversample=2)",
    "--in",
    input,
    "-o",
    out,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /lowpass\(cutoffHz=2000, q=0\.7071067811865476, order=2\) \| drive\(gainDb=20, outputDb=0, oversample=2\)/,
  );
  const rendered = decodeWav(readFileSync(out)).audio.channels[0]!;
  assert.equal(rendered.length, sine.length);
  assert.ok(Math.max(...rendered.map(Math.abs)) > 0.9, "the drive saturates towards 1");
  const bad = deepsp(dir, "render", "-e", "lowpass(cutof=1)", "--in", input, "-o", join(dir, "never.wav"));
  assert.notEqual(bad.code, 0);
  assert.match(
    bad.stderr,
    /^deepsp: lowpass parameters: unknown option "cutof" \(valid: cutoffHz, q, order\)/,
  );
  const unknown = deepsp(dir, "render", "-e", "wobble", "--in", input, "-o", join(dir, "never.wav"));
  assert.match(unknown.stderr, /unknown effect "wobble"/);
});

test("pair --material --effect makes a ready pair with provenance, and checks it", () => {
  const out = join(dir, "made");
  const chain = "highpass(cutoffHz=100) | sox.overdrive(gainDb=10)";
  const result = deepsp(
    dir,
    "pair",
    "--material",
    "chirps",
    "--material-options",
    '{"seconds":2,"sampleRate":44100}',
    "-e",
    chain,
    "-o",
    out,
    "--window",
    "1024",
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /made .*made: chirps -> highpass\(/);
  assert.match(result.stdout, /pair: +44100 Hz, 1 -> 1 channel\(s\)/);
  const provenance = JSON.parse(readFileSync(join(out, "provenance.json"), "utf8"));
  assert.equal(provenance.material.kind, "chirps");
  assert.equal(provenance.material.options.seconds, 2);
  assert.deepEqual(parseChain(provenance.effect.chain), provenance.effect.steps);
  assert.equal(formatChain(provenance.effect.steps), provenance.effect.chain);
  assert.equal(provenance.effect.steps[1].parameters.colour, 20, "defaults are recorded");
  const input = decodeWav(readFileSync(join(out, "input.wav"))).audio;
  const target = decodeWav(readFileSync(join(out, "target.wav"))).audio;
  assert.equal(input.sampleRate, 44100);
  assert.equal(target.channels[0]!.length, input.channels[0]!.length);
  const again = deepsp(dir, "pair", "--material", "chirps", "-e", chain, "-o", out);
  assert.notEqual(again.code, 0, "an existing pair is not overwritten without --force");
  const mixed = deepsp(dir, "pair", "--material", "chirps", "-i", "x.wav", "-e", chain, "-o", out);
  assert.match(mixed.stderr, /--material needs --effect and --out \(and no -i\/-t\)/);
});
