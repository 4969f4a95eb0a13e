import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { OptionError } from "../../src/core/errors.ts";
import { type ExperimentConfigInput, parseExperimentConfig } from "../../src/experiment/config.ts";
import { expandGrid } from "../../src/experiment/grid.ts";
import { checkConfig, loadConfigFile } from "../../src/node/experiment/load.ts";

const EXPERIMENTS = fileURLToPath(new URL("../../experiments/", import.meta.url));

function base(): Record<string, unknown> {
  return {
    name: "t",
    budget: { epochs: 2, seconds: 10 },
    architectures: ["linear-64", { name: "lstm-fast", preset: "lstm-8", training: { learningRate: 0.02 } }],
    materials: {
      train: [{ name: "sweeps", kind: "sweeps", options: { seconds: 3 } }],
      test: [{ name: "melody", kind: "melody", options: { seconds: 2 } }],
    },
    effects: [{ name: "lowpass", chain: "lowpass(cutoffHz=800)" }],
  };
}

/** Parses a variant of the base config and returns the error message (failing when it parses). */
function errorOf(change: (config: Record<string, unknown>) => void): string {
  const config = base();
  change(config);
  try {
    parseExperimentConfig(config, "t.json");
  } catch (error) {
    assert.ok(error instanceof OptionError, String(error));
    assert.equal(error.code, "experiment/config");
    return error.message;
  }
  assert.fail("expected the config to be refused");
}

test("a valid config gets its defaults", () => {
  const config = parseExperimentConfig(base() as ExperimentConfigInput);
  assert.equal(config.sampleRate, 48000);
  assert.equal(config.qualityEsr, 0.01);
  assert.deepEqual(config.seeds, [1]);
  assert.deepEqual(config.validation, { start: 0.4, end: 0.5 });
  assert.equal(config.budget.patience, null);
  assert.deepEqual(
    config.architectures.map((a) => [a.name, a.preset, a.training]),
    [
      ["linear-64", "linear-64", {}],
      ["lstm-fast", "lstm-8", { learningRate: 0.02 }],
    ],
  );
  assert.deepEqual(config.materials.test[0]!.options, { seconds: 2 });
});

test("config errors name the field", () => {
  assert.match(
    errorOf((c) => {
      c["budget"] = { seconds: 10 };
    }),
    /^t\.json: budget\.epochs: expected number/,
  );
  assert.match(
    errorOf((c) => {
      (c["budget"] as Record<string, unknown>)["seconds"] = -1;
    }),
    /budget\.seconds: .*0.*got -1/,
  );
  assert.match(
    errorOf((c) => {
      (c["architectures"] as unknown[]).push("lstm-999");
    }),
    /architectures\.2\.preset: unknown preset "lstm-999" \(valid: .*lstm-16/,
  );
  assert.match(
    errorOf((c) => {
      c["effects"] = [{ name: "lowpass", chian: "lowpass" }];
    }),
    /effects\.0: unknown field "chian" \(valid: name, description, chain, data, materials\)/,
  );
  assert.match(
    errorOf((c) => {
      c["effects"] = [{ name: "x", chain: "lowpass(cutoffHz=800" }];
    }),
    /effects\.0\.chain: effect chain "lowpass\(cutoffHz=800"/,
  );
  assert.match(
    errorOf((c) => {
      c["effects"] = [{ name: "x" }];
    }),
    /effects\.0: expected exactly one of "chain" .* and "data"/,
  );
  assert.match(
    errorOf((c) => {
      c["effects"] = [{ name: "bad name", chain: "lowpass" }];
    }),
    /effects\.0\.name: expected a name of letters, digits and dashes/,
  );
  assert.match(
    errorOf((c) => {
      c["effects"] = [
        { name: "a", chain: "lowpass" },
        { name: "a", chain: "drive" },
      ];
    }),
    /effects\.1\.name: effect "a" appears twice/,
  );
  assert.match(
    errorOf((c) => {
      c["effects"] = [{ name: "a", chain: "lowpass", materials: { test: ["piano"] } }];
    }),
    /effects\.0\.materials\.test\.0: no test material "piano" \(materials\.test: melody\)/,
  );
  assert.match(
    errorOf((c) => {
      c["validation"] = { start: 0.5, end: 0.4 };
    }),
    /validation\.end: expected end > start/,
  );
  assert.match(
    errorOf((c) => {
      c["effects"] = [
        { name: "rec", data: { train: [{ name: "s", pairs: [{ input: "a.wav" }] }], test: [] } },
      ];
    }),
    /effects\.0\.data\.train\.0\.pairs\.0\.target: expected string.*; effects\.0\.data\.test: .*1/,
  );
  assert.match(
    errorOf((c) => {
      c["materials"] = { train: [], test: [] };
    }),
    /materials\.train: chain effect "lowpass" needs at least one train material/,
  );
});

test("material kinds, their options and chains are checked against this machine's registries", () => {
  const check = (change: (config: Record<string, unknown>) => void) => {
    const input = base();
    change(input);
    try {
      checkConfig(parseExperimentConfig(input), "t.json");
    } catch (error) {
      assert.ok(error instanceof OptionError);
      return error.message;
    }
    return "";
  };
  assert.equal(
    check(() => {}),
    "",
  );
  assert.match(
    check((c) => {
      (c["materials"] as { train: unknown[] }).train = [{ name: "x", kind: "violin" }];
    }),
    /materials\.train\.0\.kind: unknown material kind "violin" \(valid: sweeps, sweep, .*piano/,
  );
  assert.match(
    check((c) => {
      (c["materials"] as { test: unknown[] }).test = [
        { name: "x", kind: "melody", options: { seconds: -2 } },
      ];
    }),
    /materials\.test\.0\.options\.seconds: /,
  );
  assert.match(
    check((c) => {
      c["effects"] = [{ name: "x", chain: "lowpass | flanger9" }];
    }),
    /effects\.0\.chain: unknown effect "flanger9"/,
  );
  assert.match(
    check((c) => {
      c["effects"] = [{ name: "x", chain: "lowpass(cutoffHz=-5)" }];
    }),
    /effects\.0\.chain: lowpass parameters: cutoffHz/,
  );
});

test("the shipped configs load and expand to the study's cells", async () => {
  const seed = (await loadConfigFile(`${EXPERIMENTS}study-seed.json`)).config;
  const seedGrid = expandGrid(seed);
  assert.deepEqual(
    seed.architectures.map((a) => a.name),
    ["linear-256", "mlp-study", "seedconv-study", "tcn-small", "lstm-16"],
  );
  assert.equal(seedGrid.cells.length, 20);
  assert.deepEqual(
    [...new Set(seedGrid.cells.map((cell) => `${cell.effect}: ${cell.train} -> ${cell.test}`))],
    [
      "paper-lowpass: sweeps -> beethoven",
      "paper-pedals: sweeps -> plysaw",
      "lowpass: sweeps -> piano",
      "drive: sweeps -> piano",
    ],
  );
  const ladder = (await loadConfigFile(`${EXPERIMENTS}study-ladder.json`)).config;
  const ladderGrid = expandGrid(ladder);
  assert.deepEqual(
    ladder.effects.map((effect) => effect.name),
    ["filter", "drive", "fuzz", "compressor", "echo", "reverb", "phone"],
  );
  assert.deepEqual(
    ladder.architectures.map((a) => a.name),
    ["linear-256", "tcn-small", "lstm-16", "wavenet-nano", "gru-16"],
  );
  assert.equal(ladderGrid.trainings.length, 35);
  assert.equal(ladderGrid.cells.length, 70);
  for (const config of [seed, ladder]) {
    assert.equal(config.budget.epochs, 200);
    assert.equal(config.budget.seconds, 300);
    assert.match(config.description, /hour/);
  }
});
