import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OptionError } from "../../../src/core/errors.ts";
import {
  CURVE_LENGTH,
  echoStages,
  nodeLatencySamples,
  normalizationScale,
  renderGraph,
  shape,
  shaperCurve,
  synthesizeImpulse,
} from "../../../src/effects/webaudio/graph.ts";
import { createNodeContext } from "../../../src/node/webaudio.ts";
import { errorOf, RATES } from "./helpers.ts";

describe("webaudio graph building blocks", () => {
  test("shaper curves are odd, zero in the middle, and sample curve(drive x) over [-1, 1]", () => {
    for (const curve of ["tanh", "hardclip", "softclip"] as const) {
      const points = shaperCurve(curve, 20);
      assert.equal(points.length, CURVE_LENGTH);
      const middle = (CURVE_LENGTH - 1) / 2;
      assert.equal(points[middle], 0);
      for (const i of [1, 100, 3000, middle - 1]) assert.equal(points[middle + i], -points[middle - i]!);
      assert.equal(points[CURVE_LENGTH - 1], Math.fround(shape(curve, 10)));
    }
    assert.equal(shape("softclip", 1), 1);
    assert.equal(shape("softclip", 0.5), 1.5 * (0.5 - 0.125 / 3));
    assert.equal(shape("hardclip", -3), -1);
  });

  test("room responses: deterministic per seed, unit energy, silent through the predelay", () => {
    const options = {
      impulseSeconds: 0.5,
      rt60Seconds: 0.4,
      predelaySeconds: 0.02,
      dampingHz: 5000,
      seed: 7,
    };
    for (const sampleRate of RATES) {
      const h = synthesizeImpulse(options, sampleRate);
      assert.deepEqual(h, synthesizeImpulse(options, sampleRate));
      assert.equal(h.length, Math.round(0.5 * sampleRate));
      const energy = h.reduce((sum, v) => sum + v * v, 0);
      assert.ok(Math.abs(energy - 1) < 1e-5, `energy ${energy}`);
      assert.ok(h.subarray(0, Math.round(0.02 * sampleRate)).every((v) => v === 0));
      assert.notDeepEqual(h, synthesizeImpulse({ ...options, seed: 8 }, sampleRate));
    }
  });

  test("Web Audio's normalisation: 0.00125 * (44100 / rate) / rms", () => {
    const h = new Float32Array(400).fill(0.05);
    assert.ok(Math.abs(normalizationScale(h, 48000) - (0.00125 * (44100 / 48000)) / 0.05) < 1e-9);
    assert.equal(normalizationScale(new Float32Array(10), 44100), 0.00125 / 0.000125);
  });

  test("the echo cascade: 2^J echoes cover every audible echo inside the audio, gains a^(2^j)", () => {
    assert.deepEqual(echoStages({ delaySeconds: 0.1, feedback: 0 }, 48000, 48000), []);
    // 1 s of audio, 0.1 s echoes: 10 echoes fit, so 4 stages (16 echoes) with delays 0.1, 0.2, 0.4, 0.8 s.
    const stages = echoStages({ delaySeconds: 0.1, feedback: -0.5 }, 48000, 48000);
    assert.deepEqual(
      stages.map((s) => s.seconds),
      [0.1, 0.2, 0.4, 0.8],
    );
    assert.deepEqual(
      stages.map((s) => s.gain),
      [-0.5, 0.25, 0.0625, 0.00390625],
    );
    // Long audio: echoes stop where they fall below 2^-24 (feedback 0.5: 25 echoes, 5 stages).
    assert.equal(echoStages({ delaySeconds: 0.01, feedback: 0.5 }, 48000 * 60, 48000).length, 5);
    // Feedback 0.99 at 1 ms over 10 s: 1656 audible echoes, 11 stages.
    assert.equal(echoStages({ delaySeconds: 0.001, feedback: 0.99 }, 480000, 48000).length, 11);
  });

  test("node-web-audio-api's latencies: 128 frames for 2x and 4x oversampling, the look-ahead in whole quanta", async () => {
    for (const sampleRate of [22050, ...RATES]) {
      for (const oversample of ["2x", "4x"] as const) {
        const node = { kind: "waveshaper", curve: "tanh", driveDb: 6, oversample } as const;
        assert.equal(await nodeLatencySamples(node, sampleRate, createNodeContext), 128);
      }
      const compressor = {
        kind: "compressor",
        thresholdDb: -10,
        kneeDb: 0,
        ratio: 2,
        attackSeconds: 0.01,
        releaseSeconds: 0.1,
      } as const;
      const latency = await nodeLatencySamples(compressor, sampleRate, createNodeContext);
      assert.equal(latency, Math.ceil((0.006 * sampleRate) / 128) * 128, `at ${sampleRate} Hz`);
      assert.equal(await nodeLatencySamples({ kind: "gain", gainDb: 1 }, sampleRate, createNodeContext), 0);
    }
  });

  test("renderGraph: empty audio gives empty audio; Nyquist is checked before rendering", async () => {
    const empty = await renderGraph(
      { nodes: [{ kind: "gain", gainDb: 3 }] },
      { sampleRate: 48000, channels: [new Float32Array(0)] },
      createNodeContext,
    );
    assert.deepEqual(empty.audio.channels, [new Float32Array(0)]);
    const room = {
      impulseSeconds: 0.1,
      rt60Seconds: 0.1,
      predelaySeconds: 0,
      seed: 1,
      normalize: false,
      mix: 1,
    };
    const error = await errorOf(() =>
      renderGraph(
        { nodes: [{ kind: "convolver", ...room, dampingHz: 12000 }] },
        { sampleRate: 22050, channels: [new Float32Array(64)] },
        createNodeContext,
      ),
    );
    assert.ok(error instanceof OptionError);
    assert.match(error.message, /webaudio convolver: dampingHz: must be below Nyquist \(11025 Hz/);
  });
});
