import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ToolError } from "../../../src/core/errors.ts";
import { parseOptions } from "../../../src/core/options.ts";
import { parseChain, renderChain, resolveChain } from "../../../src/effects/chain.ts";
import { externalEffects, findExternalEffect } from "../../../src/node/effects/index.ts";
import { renderLv2 } from "../../../src/node/effects/lv2.ts";
import { renderSox } from "../../../src/node/effects/sox.ts";
import { material, mono, render } from "./helpers.ts";

/** The registry of external effects: names, schemas, availability messages, temp folders, chains. */

const reasons = new Map<string, string | undefined>();
for (const effect of externalEffects) reasons.set(effect.name, await effect.unavailableReason?.());
const skipUnless = (...names: string[]): string | false => {
  for (const name of names) {
    const reason = reasons.get(name);
    if (reason !== undefined) return `${name}: ${reason}`;
  }
  return false;
};

test("the registry lists every external effect once, with its engine prefix, described parameters and defaults", () => {
  assert.deepEqual(
    externalEffects.map((e) => e.name),
    [
      "sox.overdrive",
      "sox.compand",
      "sox.reverb",
      "sox.echo",
      "sox.chorus",
      "sox.flanger",
      "sox.phaser",
      "sox.tremolo",
      "sox.equalizer",
      "sox.bass",
      "sox.treble",
      "lv2.ts9",
      "lv2.ds1",
      "lv2.bigmuff",
      "lv2.fuzzface",
      "lv2.plugin",
      "ffmpeg.telephone",
    ],
  );
  for (const effect of externalEffects) {
    assert.equal(effect.name.split(".")[0], effect.engine, `${effect.name}: engine`);
    assert.ok(effect.description.length > 20, `${effect.name}: description`);
    assert.equal(typeof effect.unavailableReason, "function", `${effect.name}: unavailableReason`);
    for (const [field, schema] of Object.entries(effect.schema.shape)) {
      assert.ok((schema as { description?: string }).description, `${effect.name}.${field} is described`);
    }
    // Every parameter has a default: an empty parameter list validates.
    parseOptions(effect.schema, {}, effect.name);
    assert.throws(() => parseOptions(effect.schema, { noSuchParameter: 1 }, effect.name), /unknown option/);
  }
  assert.equal(findExternalEffect("lv2.ts9")?.name, "lv2.ts9");
  assert.equal(findExternalEffect("nope"), undefined);
});

test("unavailableReason is undefined or one line naming the Debian package", () => {
  for (const [name, reason] of reasons) {
    if (reason === undefined) continue;
    assert.match(reason, /apt-get install -y [a-z0-9-]+/, `${name}: ${reason}`);
    assert.ok(!reason.includes("\n"), `${name}: one line`);
  }
});

test("with no programs on PATH every effect names what to install", async () => {
  const saved = process.env["PATH"];
  const empty = await mkdtemp(join(tmpdir(), "deepsp-test-empty-path-"));
  process.env["PATH"] = empty;
  try {
    const expected: Record<string, RegExp> = {
      sox: /^sox is not installed \(apt-get install -y sox\)$/,
      lv2: /not installed \(apt-get install -y lilv-utils\)$/,
      ffmpeg: /^ffmpeg is not installed \(apt-get install -y ffmpeg\)$/,
    };
    for (const effect of externalEffects) {
      const reason = await effect.unavailableReason!();
      assert.match(reason ?? "(available)", expected[effect.engine]!, effect.name);
    }
  } finally {
    process.env["PATH"] = saved;
    await rm(empty, { recursive: true, force: true });
  }
});

test("renders, failures included, leave no temporary folders behind", {
  skip: skipUnless("sox.reverb", "lv2.ts9", "ffmpeg.telephone"),
}, async () => {
  const saved = process.env["TMPDIR"];
  const scratch = await mkdtemp(join(tmpdir(), "deepsp-test-tmp-"));
  process.env["TMPDIR"] = scratch;
  try {
    assert.equal(tmpdir(), scratch);
    const input = mono(48000, material(48000, 0.2));
    for (const name of ["sox.reverb", "lv2.ts9", "ffmpeg.telephone"])
      await render(findExternalEffect(name)!, input);
    await assert.rejects(renderSox(input, ["overdrive", "500"]), ToolError);
    assert.deepEqual(await readdir(scratch), []);
  } finally {
    if (saved === undefined) delete process.env["TMPDIR"];
    else process.env["TMPDIR"] = saved;
    await rm(scratch, { recursive: true, force: true });
  }
});

test("external effects chain with each other through the chain string", {
  skip: skipUnless("sox.equalizer", "lv2.ds1", "ffmpeg.telephone"),
}, async () => {
  const steps = resolveChain(
    parseChain("sox.equalizer(frequencyHz=800, gainDb=6) | lv2.ds1(drive=0.7) | ffmpeg.telephone(codec=gsm)"),
    externalEffects,
  );
  const input = mono(44100, material(44100, 0.3));
  const first = await renderChain(input, steps);
  const second = await renderChain(input, steps);
  assert.equal(first.audio.channels[0]!.length, input.channels[0]!.length);
  assert.deepEqual(first.audio.channels[0], second.audio.channels[0]);
  assert.equal(first.latencySamples, 0);
});

const CALF_EQ = "http://calf.sourceforge.net/plugins/Equalizer8Band";

test("a plugin that crashes under lv2apply is a tool/failed error quoting its stderr", {
  skip: reasons.get("lv2.plugin") ?? false,
}, async (t) => {
  const { lv2PluginUris } = await import("../../../src/node/effects/lv2.ts");
  if (!(await lv2PluginUris()).includes(CALF_EQ)) {
    t.skip(`LV2 plugin <${CALF_EQ}> is not installed (apt-get install -y calf-plugins)`);
    return;
  }
  await assert.rejects(
    renderLv2(mono(48000, material(48000, 0.1)), CALF_EQ, {}, "calf eq"),
    (error: unknown) => {
      assert.ok(error instanceof ToolError, String(error));
      assert.equal(error.code, "tool/failed");
      assert.match(error.message, /lv2apply was killed by SIGABRT|lv2apply exited with code/);
      assert.match(error.message, /stderr: .*(free|corruption)/);
      return true;
    },
  );
});
