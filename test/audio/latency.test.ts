import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { applyDelay, estimateDelay } from "../../src/audio/latency.ts";
import { decodeWav } from "../../src/audio/wav.ts";
import { biquadCoefficients, biquadFilter } from "../../src/dsp/biquad.ts";
import { missingShared, sharedPath } from "../helpers/shared.ts";
import { delay, map, mono, noise } from "../helpers/signals.ts";

const RATE = 48000;

/** A distortion pedal in miniature: low-pass, then tanh drive, then `latency` samples of delay. */
function pedal(x: Float32Array, latency: number): Float32Array {
  const filtered = biquadFilter(
    x,
    biquadCoefficients({ type: "lowpass", frequencyHz: 5000, sampleRate: RATE }),
  );
  return delay(
    map(filtered, (v) => Math.tanh(8 * v)),
    latency,
  );
}

test("cross-correlation finds known delays through a nonlinear effect, both signs", () => {
  const x = noise(4 * RATE, 1, 0.2);
  for (const latency of [0, 1, 37, 150, 1000, -20]) {
    const estimate = estimateDelay(mono(RATE, x), mono(RATE, pedal(x, latency)), { method: "xcorr" });
    assert.equal(estimate.method, "xcorr");
    // The 5 kHz Butterworth low-pass adds its own group delay: sqrt(2) / (2 pi 5000 Hz) = 45 us = 2.2 samples.
    assert.equal(estimate.delaySamples - latency, 2, `latency ${latency}: got ${estimate.delaySamples}`);
    assert.ok(estimate.confidence > 0.5, `confidence ${estimate.confidence}`);
  }
});

test("cross-correlation on a swept sine is exact for a pure delay and a clipper", () => {
  const x = new Float32Array(2 * RATE);
  for (let n = 0; n < x.length; n++)
    x[n] = 0.5 * Math.sin(2 * Math.PI * 50 * (n / RATE) * (1 + (20 * n) / x.length));
  const y = map(delay(x, 213), (v) => Math.max(-0.3, Math.min(0.3, v)));
  assert.equal(estimateDelay(mono(RATE, x), mono(RATE, y)).delaySamples, 213);
});

test("delays beyond the search window are not reported", () => {
  const x = noise(RATE, 2);
  const estimate = estimateDelay(mono(RATE, x), mono(RATE, delay(x, 600)), { maxDelaySeconds: 0.005 });
  assert.ok(Math.abs(estimate.delaySamples) <= 240);
  assert.ok(
    estimate.confidence < 0.5,
    `a wrong answer must come with low confidence, got ${estimate.confidence}`,
  );
});

test("blips after silence give the onset delay, and auto mode prefers them", () => {
  const x = new Float32Array(3 * RATE);
  const blipAt = [12000, 24000, 36000, 48000];
  for (const position of blipAt) x[position] = 0.9;
  x.set(noise(RATE, 3, 0.2), 2 * RATE); // program material after the blips
  const y = pedal(x, 91);
  const estimate = estimateDelay(mono(RATE, x), mono(RATE, y));
  assert.equal(estimate.method, "onsets");
  assert.deepEqual(estimate.onsetDelays?.length, blipAt.length);
  // The threshold crossing comes at most a couple of samples after the filtered click starts.
  assert.ok(estimate.delaySamples >= 91 && estimate.delaySamples <= 93, `got ${estimate.delaySamples}`);
  assert.equal(estimate.confidence, 1);
});

test("onset mode without blips says so", () => {
  const x = noise(RATE, 4);
  assert.throws(() => estimateDelay(mono(RATE, x), mono(RATE, x), { method: "onsets" }), /found no blips/);
});

test("applyDelay lines the target up with the input for positive and negative delays", () => {
  const x = Float32Array.from({ length: 100 }, (_, n) => n);
  const lagging = applyDelay(mono(RATE, x), mono(RATE, delay(x, 7)), 7);
  assert.deepEqual(lagging.input.channels[0], lagging.target.channels[0]);
  assert.equal(lagging.input.channels[0]!.length, 93);
  const leading = applyDelay(mono(RATE, x), mono(RATE, delay(x, -5)), -5);
  assert.deepEqual(leading.input.channels[0], leading.target.channels[0]);
  assert.throws(() => applyDelay(mono(RATE, x), mono(RATE, x), 100), /leaves nothing/);
});

const pedals = ["sin", "square", "plysaw"].map((name) => `deepsp-paper/pedals/pre/${name}.wav`);
test("the study's pedal recordings: 115-195 samples, the same for every material", {
  skip: missingShared(pedals[0]!),
}, () => {
  const delays = ["sin", "square", "plysaw"].map((name) => {
    const read = (folder: string) =>
      decodeWav(readFileSync(sharedPath(`deepsp-paper/pedals/${folder}/${name}.wav`))).audio;
    return estimateDelay(read("pre"), read("post")).delaySamples;
  });
  for (const found of delays) assert.ok(found >= 115 && found <= 195, `delays ${delays}`);
  // One pedal chain: the estimates on three different materials agree within a sample.
  assert.ok(Math.max(...delays) - Math.min(...delays) <= 1, `delays ${delays}`);
});
