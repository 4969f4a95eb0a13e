import assert from "node:assert/strict";
import { test } from "node:test";
import { esrVerdict } from "../../src/eval/verdict.ts";

test("esrVerdict uses NAM's bands: 0.01, 0.035, 0.1, 0.3; NaN and infinity fail", () => {
  const bands = [
    0,
    0.0099,
    0.01,
    0.0349,
    0.035,
    0.099,
    0.1,
    0.299,
    0.3,
    5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ].map((esr) => esrVerdict(esr).band);
  assert.deepEqual(bands, [
    "great",
    "great",
    "good",
    "good",
    "fair",
    "fair",
    "poor",
    "poor",
    "failed",
    "failed",
    "failed",
    "failed",
  ]);
  assert.match(esrVerdict(0.02).words, /^Good/);
});
