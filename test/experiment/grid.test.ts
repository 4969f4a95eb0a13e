import assert from "node:assert/strict";
import { test } from "node:test";
import { parseExperimentConfig } from "../../src/experiment/config.ts";
import {
  cellFingerprint,
  expandGrid,
  hashJson,
  matchesGlob,
  type RunLimits,
  trainingFingerprint,
} from "../../src/experiment/grid.ts";

const config = parseExperimentConfig({
  name: "grid",
  budget: { epochs: 5, seconds: 60 },
  seeds: [1, 2],
  architectures: ["linear-64", "lstm-8"],
  materials: {
    train: [
      { name: "sweeps", kind: "sweeps" },
      { name: "standard", kind: "standard" },
    ],
    test: [
      { name: "piano", kind: "piano" },
      { name: "guitar", kind: "guitar" },
    ],
  },
  effects: [
    { name: "lowpass", chain: "lowpass" },
    { name: "drive", chain: "drive", materials: { train: ["standard"], test: ["guitar"] } },
    {
      name: "rec",
      data: {
        train: [{ name: "sin", pairs: [{ input: "a.wav", target: "b.wav" }] }],
        test: [{ name: "song", pairs: [{ input: "c.wav", target: "d.wav" }] }],
      },
    },
  ],
});
const limits: RunLimits = { epochs: 5, seconds: 60, patience: null, materialSeconds: null };

test("grid expansion: config order, stable unique ids, trainings shared by their test materials", () => {
  const { trainings, cells } = expandGrid(config);
  // lowpass: 2 train x 2 test x 2 arch x 2 seeds; drive: 1 x 1 x 2 x 2; rec: 1 x 1 x 2 x 2.
  assert.equal(cells.length, 16 + 4 + 4);
  assert.equal(trainings.length, 8 + 4 + 4);
  assert.equal(new Set(cells.map((cell) => cell.id)).size, cells.length);
  assert.equal(new Set(trainings.map((training) => training.id)).size, trainings.length);
  assert.deepEqual(
    cells.slice(0, 5).map((cell) => cell.id),
    [
      "lowpass.sweeps.piano.linear-64.s1",
      "lowpass.sweeps.guitar.linear-64.s1",
      "lowpass.sweeps.piano.linear-64.s2",
      "lowpass.sweeps.guitar.linear-64.s2",
      "lowpass.sweeps.piano.lstm-8.s1",
    ],
  );
  assert.deepEqual(
    cells.filter((cell) => cell.effect === "drive").map((cell) => cell.id),
    [
      "drive.standard.guitar.linear-64.s1",
      "drive.standard.guitar.linear-64.s2",
      "drive.standard.guitar.lstm-8.s1",
      "drive.standard.guitar.lstm-8.s2",
    ],
  );
  assert.equal(cells.at(-1)!.id, "rec.sin.song.lstm-8.s2");
  assert.deepEqual(
    trainings[0]!.cells.map((cell) => cell.test),
    ["piano", "guitar"],
  );
  assert.equal(trainings[0]!.id, "lowpass.sweeps.linear-64.s1");
  for (const cell of cells) {
    assert.match(cell.id, /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+){3}\.s\d+$/);
    assert.ok(trainings.find((training) => training.id === cell.trainingId)!.cells.includes(cell));
  }
  assert.deepEqual(expandGrid(config), { trainings, cells }, "expanding twice gives the same grid");
});

test("--only globs select cells by id", () => {
  const ids = expandGrid(config).cells.map((cell) => cell.id);
  const select = (patterns: string) => ids.filter((id) => matchesGlob(patterns, id));
  assert.equal(select("lowpass.*").length, 16);
  assert.equal(select("*.lstm-8.*").length, 12);
  assert.equal(select("*.piano.*,drive.*").length, 8 + 4);
  assert.deepEqual(select("rec.sin.song.linear-64.s?"), [
    "rec.sin.song.linear-64.s1",
    "rec.sin.song.linear-64.s2",
  ]);
  assert.deepEqual(select("lowpass"), [], "no wildcard: the whole id must match");
  assert.deepEqual(select("lowpass.sweeps.piano.linear-64.s1"), ["lowpass.sweeps.piano.linear-64.s1"]);
  assert.equal(select("*.s1").length, 12, "dots are literal");
});

test("fingerprints are stable and change with what a result depends on", () => {
  const { trainings, cells } = expandGrid(config);
  const training = trainings[0]!;
  const print = trainingFingerprint(config, training, limits);
  assert.match(print, /^[0-9a-f]{16}$/);
  assert.equal(trainingFingerprint(config, training, { ...limits }), print);
  assert.notEqual(trainingFingerprint(config, training, { ...limits, epochs: 1 }), print);
  assert.notEqual(trainingFingerprint(config, training, { ...limits, materialSeconds: 3 }), print);
  assert.notEqual(trainingFingerprint(config, trainings[1]!, limits), print);
  const edited = parseExperimentConfig({
    ...config,
    effects: [{ name: "lowpass", chain: "lowpass(cutoffHz=500)" }],
  });
  assert.notEqual(trainingFingerprint(edited, training, limits), print);
  const [piano, guitar] = [cells[0]!, cells[1]!];
  assert.notEqual(
    cellFingerprint(config, piano, limits, print),
    cellFingerprint(config, guitar, limits, print),
  );
  assert.equal(
    hashJson({ a: 1, b: [2, { c: 3 }] }),
    hashJson({ b: [2, { c: 3 }], a: 1 }),
    "key order is irrelevant",
  );
});
