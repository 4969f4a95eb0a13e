import assert from "node:assert/strict";
import { test } from "node:test";
import { splitFrames } from "../../src/data/split.ts";
import { biquadCoefficients, biquadFilter } from "../../src/dsp/biquad.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { RnnModel } from "../../src/nn/models/rnn.ts";
import { TcnModel } from "../../src/nn/models/tcn.ts";
import { melody, noise, sweep } from "../../src/signals/index.ts";
import { evaluate } from "../../src/train/evaluate.ts";
import { train } from "../../src/train/trainer.ts";

// Smoke test of the whole engine: kernels, layers, loss, Adam, trainer. A tiny model must learn a known nonlinear
// filter, y = tanh(3 * lowpass_2kHz(x)), from 6 s of generated material at 16 kHz, and reach ESR < 0.01 on
// held-out audio it never trained on.
const RATE = 16000;
const material = [
  noise({ seconds: 2, sampleRate: RATE, amplitude: 0.6, seed: 2 }),
  sweep({ seconds: 1, sampleRate: RATE, amplitude: 0.5, endHz: 7000 }),
  melody({ seconds: 2, sampleRate: RATE, amplitude: 0.7 }),
  noise({ seconds: 1, sampleRate: RATE, amplitude: 0.2, color: "pink", seed: 3 }),
];
const x = new Float32Array(material.reduce((sum, part) => sum + part.channels[0]!.length, 0));
material.reduce((offset, part) => {
  x.set(part.channels[0]!, offset);
  return offset + part.channels[0]!.length;
}, 0);
const lowpass = biquadCoefficients({ type: "lowpass", frequencyHz: 2000, sampleRate: RATE });
const y = biquadFilter(x, lowpass).map((v) => Math.tanh(3 * v));
const pair = { input: { sampleRate: RATE, channels: [x] }, target: { sampleRate: RATE, channels: [y] } };
// Validation, then test (both in the white noise), then training: the model never sees the test samples.
const split = splitFrames(x.length, RATE, {
  kind: "fractions",
  train: 0.75,
  validation: 0.05,
  test: 0.2,
  order: ["validation", "test", "train"],
});
const parts = [{ name: "smoke", pair, split }];

/** Trains with the real trainer until validation ESR < 0.005 (or maxEpochs); returns the test ESR. */
async function fit(model: Model, burnIn: number, maxEpochs: number): Promise<number> {
  const controller = new AbortController();
  await train({
    model,
    parts,
    epochs: maxEpochs,
    batchSize: 16,
    learningRate: 0.01,
    loss: { type: "mse" },
    windowLength: 512,
    overlap: 4,
    seed: 1,
    ...(model.recurrent ? { burnIn, truncate: 256 } : {}),
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === "validation" && event.epoch > 0 && event.esr < 0.005) controller.abort();
    },
  });
  return evaluate(model, pair, split.regions.test, { burnIn }).esr;
}

test("a tiny dilated conv stack learns tanh(3 * lowpass(x)) to test ESR < 0.01", async () => {
  const model = new TcnModel({ width: 8, kernelSize: 3, dilations: [1, 2, 4, 8, 16] }, { seed: 1 });
  const before = evaluate(model, pair, split.regions.test).esr;
  const esr = await fit(model, 0, 12);
  assert.ok(esr < 0.01, `test ESR ${esr} (untrained: ${before})`);
});

test("a tiny LSTM (burn-in 32, truncated BPTT every 256) learns tanh(3 * lowpass(x)) to test ESR < 0.01", async () => {
  const model = new RnnModel({ cell: "lstm", hidden: 8 }, { seed: 1 });
  const before = evaluate(model, pair, split.regions.test, { burnIn: 32 }).esr;
  const esr = await fit(model, 32, 30);
  assert.ok(esr < 0.01, `test ESR ${esr} (untrained: ${before})`);
});
