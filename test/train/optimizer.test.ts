import assert from "node:assert/strict";
import { test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import { Parameters } from "../../src/nn/parameters.ts";
import { Adam, clipGradientNorm } from "../../src/train/optimizer.ts";
import { Schedule } from "../../src/train/schedule.ts";

function twoTensors(): Parameters {
  const parameters = new Parameters(
    [
      { name: "a", shape: [2], init: { kind: "constant", value: 1 } },
      { name: "b", shape: [1], init: { kind: "constant", value: -2 } },
    ],
    "float64",
  );
  parameters.initialize(0);
  return parameters;
}

test("Adam's first steps follow the bias-corrected formulas", () => {
  const parameters = twoTensors();
  const adam = new Adam(parameters, { learningRate: 0.1 });
  parameters.grads.set([0.5, -2, 0]);
  adam.step();
  // Step 1: m_hat = g, v_hat = g^2, so every moving weight moves by lr * sign(g) (up to epsilon).
  assert.ok(Math.abs(parameters.values[0]! - 0.9) < 1e-7);
  assert.ok(Math.abs(parameters.values[1]! - 1.1) < 1e-7);
  assert.equal(parameters.values[2], -2);
  const afterFirst = parameters.values[1]!;
  parameters.grads.set([0.5, 1, 0]);
  adam.step();
  // Step 2 for a[1], from the definition: m1 = 0.1 g1, v1 = 0.001 g1^2, then one more moving-average step.
  const m = 0.9 * (0.1 * -2) + 0.1 * 1;
  const v = 0.999 * (0.001 * 4) + 0.001 * 1;
  const expected = afterFirst - (0.1 * (m / (1 - 0.9 ** 2))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
  assert.ok(Math.abs(parameters.values[1]! - expected) < 1e-12);
});

test("AdamW decays weights; frozen tensors do not move; state round-trips", () => {
  const parameters = twoTensors();
  parameters.setFrozen(["b"], true);
  const adam = new Adam(parameters, { learningRate: 0.1, weightDecay: 0.5 });
  parameters.grads.set([0, 0, 3]);
  adam.step();
  assert.ok(Math.abs(parameters.values[0]! - (1 - 0.1 * 0.5)) < 1e-12, "zero gradient: only the decay");
  assert.equal(parameters.values[2], -2, "frozen");
  const saved = adam.saveState();
  const copy = new Adam(twoTensors(), { learningRate: 0.1, weightDecay: 0.5 });
  copy.loadState(saved);
  assert.deepEqual(copy.saveState(), saved);
  assert.throws(() => new Adam(parameters, { learningRate: -1 }), OptionError);
  assert.throws(
    () => copy.loadState({ step: 1, m: new Float64Array(1), v: new Float64Array(1) }),
    /1 moments, the model has 3/,
  );
});

test("gradient clipping scales to the max norm and reports the norm before", () => {
  const parameters = twoTensors();
  parameters.grads.set([3, 4, 0]);
  assert.equal(clipGradientNorm(parameters, 10), 5);
  assert.deepEqual(Array.from(parameters.grads), [3, 4, 0]);
  assert.equal(clipGradientNorm(parameters, 1), 5);
  const norm = Math.hypot(...parameters.grads);
  assert.ok(Math.abs(norm - 1) < 1e-6);
});

test("schedules: constant, exponential, plateau, and scale-down after divergence", () => {
  const constant = new Schedule({ type: "constant" }, 0.01);
  assert.equal(constant.endEpoch(1), 0.01);
  const exponential = new Schedule({ type: "exponential", gamma: 0.5 }, 0.01);
  exponential.endEpoch(1);
  assert.equal(exponential.endEpoch(1), 0.0025);
  exponential.scaleDown(0.5);
  assert.equal(exponential.endEpoch(1), 0.01 * 0.5 * 0.5 ** 3);
  const plateau = new Schedule({ type: "plateau", factor: 0.5, patience: 2 }, 0.01);
  plateau.endEpoch(1); // best 1
  plateau.endEpoch(1); // bad 1
  assert.equal(plateau.endEpoch(1), 0.01); // bad 2
  assert.equal(plateau.endEpoch(1), 0.005); // bad 3 > patience: reduce
  assert.equal(plateau.endEpoch(0.5), 0.005); // improved
  const restored = new Schedule({ type: "plateau", factor: 0.5, patience: 2 }, 0.01);
  restored.loadState(plateau.saveState());
  assert.deepEqual(restored.saveState(), plateau.saveState());
  assert.throws(() => new Schedule({ type: "exponential", gamma: 2 }, 0.1), /gamma must be in \(0, 1\]/);
});
