import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { ModelFile } from "../../src/io/model-file.ts";
import { NamError } from "../../src/io/nam/file.ts";
import { findPreset } from "../../src/nn/models/presets.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { FileError } from "../../src/node/files.ts";
import { writeModelFile } from "../../src/node/model-files.ts";
import { readAnyModel, writeNamFile, writeRtneuralFile } from "../../src/node/model-io.ts";
import { withTempDir } from "../../src/node/tools.ts";
import { missingShared, sharedPath } from "../helpers/shared.ts";

function modelFile(config: unknown): ModelFile {
  return {
    model: createModel(config, { seed: 4 }),
    sampleRate: 48000,
    latencySamples: 0,
    metadata: { createdAt: "2026-01-02T03:04:05.000Z", deepspVersion: "0.1.0", name: "m" },
  };
}

test("readAnyModel recognises deepsp, .nam and RTNeural files by content, whatever their names", async () => {
  await withTempDir(async (dir) => {
    const wavenet = modelFile(findPreset("wavenet-nano").model);
    const gru = modelFile(findPreset("gru-16").model);
    await writeModelFile(join(dir, "a.model"), wavenet);
    await writeNamFile(join(dir, "b.model"), wavenet);
    await writeRtneuralFile(join(dir, "c.model"), gru);
    for (const [name, format, source] of [
      ["a.model", "deepsp", wavenet],
      ["b.model", "nam", wavenet],
      ["c.model", "rtneural", gru],
    ] as const) {
      const loaded = await readAnyModel(join(dir, name));
      assert.equal(loaded.kind, "deepsp");
      if (loaded.kind !== "deepsp") continue;
      assert.equal(loaded.format, format);
      assert.deepEqual(loaded.file.model.toConfig(), source.model.toConfig());
      assert.deepEqual(
        Array.from(loaded.file.model.parameters.values),
        Array.from(source.model.parameters.values),
      );
    }
    const nam = JSON.parse(await readFile(join(dir, "b.model"), "utf8"));
    assert.equal(nam.architecture, "WaveNet");
    await assert.rejects(
      writeNamFile(join(dir, "b.model"), wavenet),
      FileError,
      "no overwrite without asking",
    );
    await writeNamFile(join(dir, "b.model"), wavenet, { overwrite: true });
  });
});

test("readAnyModel: errors name the path", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "x.json");
    await writeFile(path, JSON.stringify({ hello: 1 }));
    await assert.rejects(readAnyModel(path), new RegExp(`${path}: not a model file deepsp knows`));
    await writeFile(path, "{");
    await assert.rejects(readAnyModel(path), /x\.json: not a model file: not valid JSON/);
    await writeFile(
      path,
      JSON.stringify({
        version: "0.5.4",
        architecture: "Linear",
        config: { receptive_field: 2, bias: false },
        weights: [1],
      }),
    );
    await assert.rejects(
      readAnyModel(path),
      (error: unknown) => error instanceof NamError && error.message.startsWith(`${path}: `),
    );
    await assert.rejects(readAnyModel(join(dir, "missing.nam")), FileError);
    await assert.rejects(
      writeNamFile(path, modelFile(findPreset("gru-16").model), { overwrite: true }),
      /x\.json: cannot write a \.nam file/,
    );
  });
});

test("readAnyModel returns .nam files only NAM's player runs as { kind: 'nam' }", {
  skip: missingShared("nam-reference/models/wavenet_a2_max.nam"),
}, async () => {
  for (const name of ["wavenet_a2_max", "slimmable_container", "wavenet_condition_dsp"]) {
    const loaded = await readAnyModel(sharedPath(`nam-reference/models/${name}.nam`));
    assert.equal(loaded.kind, "nam", name);
    if (loaded.kind === "nam")
      assert.equal(loaded.nam.source, sharedPath(`nam-reference/models/${name}.nam`));
  }
  const lstm = await readAnyModel(sharedPath("nam-reference/models/lstm.nam"));
  assert.equal(lstm.kind, "deepsp");
});
