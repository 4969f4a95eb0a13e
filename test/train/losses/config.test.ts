import assert from "node:assert/strict";
import { test } from "node:test";
import { DeepspError, OptionError } from "../../../src/core/errors.ts";
import { createLoss, type LossConfig, type LossShape } from "../../../src/train/losses/index.ts";
import { gradcheck, Rng, randomArray } from "../../helpers/gradcheck.ts";

const shape: LossShape = { batch: 2, channels: 2, length: 48 };
const small = { fftSizes: [16, 32], hopSizes: [4, 8], windowLengths: [12, 32] };

function data(seed: number): { prediction: Float64Array; target: Float64Array } {
  const rng = new Rng(seed);
  return { prediction: randomArray(192, rng), target: randomArray(192, rng) };
}

/** Asserts that `run` throws an OptionError whose message matches every pattern. */
function throwsOption(run: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof OptionError, `expected an OptionError, got ${String(e)}`);
    for (const pattern of patterns) assert.match(e.message, pattern);
    return true;
  });
}

const configs: LossConfig[] = [
  { type: "mse" },
  { type: "l1", maskFirst: 3 },
  { type: "esr", preEmphasis: { type: "highpass", coefficient: 0.95 } },
  { type: "dc", eps: 1e-6 },
  { type: "esr", preEmphasis: { type: "folded" } },
  { type: "mse", preEmphasis: { type: "aweighting", sampleRate: 44100, taps: 15 } },
  { type: "mrstft", ...small, maskFirst: 2, preEmphasis: { type: "highpass" } },
  {
    type: "sum",
    maskFirst: 4,
    terms: [
      { weight: 1, loss: { type: "esr", preEmphasis: { type: "highpass", coefficient: 0.85 } } },
      { weight: 0.5, loss: { type: "dc" } },
      { weight: 2e-4, loss: { type: "mrstft", ...small } },
      { weight: 0.25, loss: { type: "sum", terms: [{ weight: 3, loss: { type: "l1", maskFirst: 2 } }] } },
    ],
  },
];

test("toConfig fills in defaults and round-trips through JSON and createLoss", () => {
  const { prediction, target } = data(1);
  for (const config of configs) {
    const loss = createLoss(config);
    const resolved = loss.toConfig();
    const again = createLoss(JSON.parse(JSON.stringify(resolved)) as LossConfig);
    assert.deepEqual(again.toConfig(), resolved);
    assert.equal(again.name, loss.name);
    assert.equal(again.forward(prediction, target, shape), loss.forward(prediction, target, shape));
  }
  assert.deepEqual(createLoss({ type: "esr" }).toConfig(), { type: "esr", maskFirst: 0, eps: 1e-8 });
  assert.deepEqual(createLoss({ type: "mrstft" }).toConfig(), {
    type: "mrstft",
    maskFirst: 0,
    fftSizes: [1024, 2048, 512],
    hopSizes: [120, 240, 50],
    windowLengths: [600, 1200, 240],
    spectralConvergenceWeight: 1,
    logMagnitudeWeight: 1,
    eps: 1e-8,
  });
  assert.deepEqual(createLoss({ type: "mse", preEmphasis: { type: "aweighting" } }).toConfig(), {
    type: "mse",
    maskFirst: 0,
    preEmphasis: { type: "aweighting", sampleRate: 48000, taps: 101 },
  });
});

test("a sum is the weighted sum of its terms; its mask comes before the terms' masks", () => {
  const { prediction, target } = data(2);
  const esr = { type: "esr", preEmphasis: { type: "highpass", coefficient: 0.85 } } as const;
  const sum = createLoss({
    type: "sum",
    maskFirst: 4,
    terms: [
      { weight: 1, loss: esr },
      { weight: 0.5, loss: { type: "dc", maskFirst: 3 } },
    ],
  });
  const expected =
    createLoss({ ...esr, maskFirst: 4 }).forward(prediction, target, shape) +
    0.5 * createLoss({ type: "dc", maskFirst: 7 }).forward(prediction, target, shape);
  assert.ok(Math.abs(sum.forward(prediction, target, shape) - expected) < 1e-15);
  assert.equal(sum.name, "(1*esr+highpass(0.85) + 0.5*dc[mask 3])[mask 4]");
});

test("gradients of sums (nested, masked, with every loss type) match finite differences", () => {
  const { prediction, target } = data(3);
  const config = configs[configs.length - 1]!;
  const loss = createLoss(config);
  loss.forward(prediction, target, shape);
  const grad = new Float64Array(192);
  loss.backward(grad);
  gradcheck(() => loss.forward(prediction, target, shape), [{ name: loss.name, values: prediction, grad }], {
    atol: 1e-7,
    rtol: 1e-5,
  });
  for (let row = 0; row < 4; row++) for (let t = 0; t < 4; t++) assert.equal(grad[row * 48 + t], 0);
});

test("bad configs give OptionErrors naming the field", () => {
  throwsOption(() => createLoss({ type: "huber" } as never), /type/, /"huber"/, /"esr"/);
  throwsOption(() => createLoss(null as never), /loss config object/);
  throwsOption(() => createLoss({ type: "esr", foo: 1 } as never), /unknown option "foo"/, /maskFirst/);
  throwsOption(() => createLoss({ type: "esr", maskFirst: -1 }), /maskFirst/);
  throwsOption(() => createLoss({ type: "esr", maskFirst: 1.5 }), /maskFirst/);
  throwsOption(() => createLoss({ type: "esr", eps: 0 }), /eps/);
  throwsOption(
    () => createLoss({ type: "sum", terms: [{ weight: -1, loss: { type: "esr" } }] }),
    /terms\[0\]/,
    /weight/,
    /-1/,
  );
  throwsOption(
    () => createLoss({ type: "sum", terms: [{ weight: 1, loss: { type: "esr", eps: "x" } }] } as never),
    /terms\[0\]\.loss/,
    /eps/,
  );
  throwsOption(() => createLoss({ type: "sum", terms: [{ weight: 1 }] } as never), /terms\[0\]/, /loss/);
  throwsOption(() => createLoss({ type: "sum", terms: [] }), /terms/);
  throwsOption(
    () => createLoss({ type: "mse", preEmphasis: { type: "lowpass" } } as never),
    /preEmphasis/,
    /type/,
  );
  throwsOption(
    () => createLoss({ type: "mse", preEmphasis: { type: "highpass", coefficient: 1.5 } }),
    /preEmphasis/,
    /coefficient/,
  );
  throwsOption(
    () => createLoss({ type: "mse", preEmphasis: { type: "aweighting", taps: 100 } }),
    /taps/,
    /odd/,
  );
  throwsOption(
    () => createLoss({ type: "mrstft", ...small, fftSizes: [16, 24] }),
    /fftSizes\.1/,
    /power of two/,
  );
  throwsOption(() => createLoss({ type: "mrstft", ...small, hopSizes: [4] }), /hopSizes/, /2 values/);
  throwsOption(() => createLoss({ type: "mrstft", ...small, windowLengths: [12, 40] }), /windowLengths\.1/);
});

test("maskFirst >= the row length and wrong shapes are rejected at forward; backward needs forward", () => {
  const { prediction, target } = data(4);
  throwsOption(
    () => createLoss({ type: "mse", maskFirst: 48 }).forward(prediction, target, shape),
    /maskFirst/,
    /48/,
  );
  throwsOption(
    () =>
      createLoss({
        type: "sum",
        maskFirst: 40,
        terms: [{ weight: 1, loss: { type: "l1", maskFirst: 8 } }],
      }).forward(prediction, target, shape),
    /maskFirst/,
  );
  const loss = createLoss({ type: "esr" });
  throwsOption(() => loss.forward(prediction, target, { ...shape, length: 47 }), /192/);
  throwsOption(() => loss.forward(prediction, target.subarray(1), shape), /191/);
  throwsOption(() => loss.forward(prediction, target, { ...shape, batch: 0 }), /shape\.batch/);
  assert.throws(
    () => createLoss({ type: "esr" }).backward(new Float64Array(192)),
    (e: unknown) => e instanceof DeepspError && e.code === "loss/order",
  );
  loss.forward(prediction, target, shape);
  throwsOption(() => loss.backward(new Float64Array(10)), /gradient/);
});
