import assert from "node:assert/strict";
import { test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import { parseSplitSpec, ROLES, roleFrames, splitFrames } from "../../src/data/split.ts";

test("fractions tile the take contiguously in the default order train, validation, test", () => {
  const split = splitFrames(100001, 48000);
  assert.deepEqual(split.regions.train, [{ start: 0, end: 80001 }]);
  assert.deepEqual(split.regions.validation, [{ start: 80001, end: 90001 }]);
  assert.deepEqual(split.regions.test, [{ start: 90001, end: 100001 }]);
  assert.equal(
    ROLES.reduce((sum, role) => sum + roleFrames(split, role), 0),
    100001,
  );
});

test("fractions honour a custom order and a zero-sized role", () => {
  const split = splitFrames(1000, 10, {
    kind: "fractions",
    train: 0.7,
    validation: 0,
    test: 0.3,
    order: ["test", "train", "validation"],
  });
  assert.deepEqual(split.regions.test, [{ start: 0, end: 300 }]);
  assert.deepEqual(split.regions.train, [{ start: 300, end: 1000 }]);
  assert.deepEqual(split.regions.validation, []);
});

test("bad fractions are rejected with the reason", () => {
  assert.throws(
    () => splitFrames(10, 1, { kind: "fractions", train: 0.8, validation: 0.1, test: 0.2 }),
    /sum to 1/,
  );
  assert.throws(
    () => splitFrames(10, 1, { kind: "fractions", train: 1.5, validation: -0.5, test: 0 }),
    /in \[0, 1\]/,
  );
  assert.throws(
    () =>
      splitFrames(10, 1, {
        kind: "fractions",
        train: 0.8,
        validation: 0.1,
        test: 0.1,
        order: ["train", "train", "test"],
      }),
    /name train, validation and test once each/,
  );
});

test("explicit ranges in seconds, several per role, never overlapping", () => {
  const split = splitFrames(48000 * 40, 48000, {
    kind: "ranges",
    train: [
      [0, 10],
      [20, 35],
    ],
    test: [[35, 40]],
    validation: [[10, 12]],
  });
  assert.deepEqual(split.regions.train, [
    { start: 0, end: 480000 },
    { start: 960000, end: 1680000 },
  ]);
  assert.equal(roleFrames(split, "validation"), 96000);
  assert.throws(
    () => splitFrames(48000 * 40, 48000, { kind: "ranges", train: [[0, 10]], test: [[9, 12]] }),
    (error: unknown) =>
      error instanceof OptionError && /test range \[9, 12\] s overlaps a train range/.test(error.message),
  );
  assert.throws(
    () => splitFrames(4800, 48000, { kind: "ranges", test: [[1, 2]] }),
    /after the end of the audio/,
  );
});

test("a whole pair can play one role (separate files per role)", () => {
  const split = splitFrames(5000, 48000, { kind: "whole", role: "test" });
  assert.deepEqual(split.regions, { train: [], validation: [], test: [{ start: 0, end: 5000 }] });
});

test("the CLI syntax parses to the same specs", () => {
  assert.deepEqual(parseSplitSpec("0.7,0.2,0.1"), {
    kind: "fractions",
    train: 0.7,
    validation: 0.2,
    test: 0.1,
  });
  assert.deepEqual(parseSplitSpec("train=0-30+40-50,test=30-40"), {
    kind: "ranges",
    train: [
      [0, 30],
      [40, 50],
    ],
    test: [[30, 40]],
  });
  assert.deepEqual(parseSplitSpec("test"), { kind: "whole", role: "test" });
  assert.throws(() => parseSplitSpec("80/10/10"), /not understood/);
});
