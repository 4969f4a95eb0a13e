import assert from "node:assert/strict";
import { test } from "node:test";
import { splitFrames } from "../../src/data/split.ts";
import { Windows } from "../../src/data/windows.ts";
import { biquadCoefficients, biquadFilter } from "../../src/dsp/biquad.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { RnnModel } from "../../src/nn/models/rnn.ts";
import { TcnModel } from "../../src/nn/models/tcn.ts";
import { melody, noise, sweep } from "../../src/signals/index.ts";
import { createLoss } from "../../src/train/losses/index.ts";
import { Adam } from "../../src/train/optimizer.ts";
import { trainStep } from "../../src/train/step.ts";

// Smoke test of the whole engine: kernels, layers, loss, Adam. A tiny model must learn a known nonlinear
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
// Test region first (the noise), training on the rest: the model never sees the test samples.
const split = splitFrames(x.length, RATE, {
  kind: "fractions",
  train: 0.8,
  validation: 0,
  test: 0.2,
  order: ["test", "train", "validation"],
});

/** ESR on the test region, the model run over it in one piece. */
function testEsr(model: Model): number {
  const region = split.regions.test[0]!;
  const input = x.subarray(region.start, region.end);
  const output = model.forward({ data: input, batch: 1, channels: 1, length: input.length }).data;
  const offset = input.length - output.length; // a convolutional model consumes its receptive field
  let error = 0;
  let signal = 0;
  for (let t = 0; t < output.length; t++) {
    const target = y[region.start + offset + t]!;
    error += (target - output[t]!) ** 2;
    signal += target ** 2;
  }
  return error / signal;
}

function fit(model: Model, burnIn: number, maxEpochs: number): number {
  const length = 512 + burnIn;
  const prefix = model.receptiveField - 1;
  const windows = new Windows([{ pair, regions: split.regions.train }], { length, prefix, overlap: 4 });
  const loss = createLoss({ type: "mse", maskFirst: burnIn });
  const optimizer = new Adam(model.parameters, { learningRate: 0.01 });
  let esr = Number.POSITIVE_INFINITY;
  for (let epoch = 0; epoch < maxEpochs && esr >= 0.005; epoch++) {
    for (const batch of windows.batches({ batchSize: 16, epoch, seed: 1 })) {
      const input = { data: batch.input, batch: batch.size, channels: 1, length: prefix + length };
      trainStep(model, loss, optimizer, { input, target: batch.target });
    }
    esr = testEsr(model);
  }
  return esr;
}

test("a tiny dilated conv stack learns tanh(3 * lowpass(x)) to test ESR < 0.01", () => {
  const model = new TcnModel({ width: 8, kernelSize: 3, dilations: [1, 2, 4, 8, 16] }, { seed: 1 });
  const before = testEsr(model);
  const esr = fit(model, 0, 12);
  assert.ok(esr < 0.01, `test ESR ${esr} (untrained: ${before})`);
});

test("a tiny LSTM learns tanh(3 * lowpass(x)) to test ESR < 0.01", () => {
  const model = new RnnModel({ cell: "lstm", hidden: 8 }, { seed: 1 });
  const before = testEsr(model);
  const esr = fit(model, 32, 30);
  assert.ok(esr < 0.01, `test ESR ${esr} (untrained: ${before})`);
});
