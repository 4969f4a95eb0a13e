import assert from "node:assert/strict";
import { test } from "node:test";
import type { Audio } from "../../src/audio/audio.ts";
import { PairError } from "../../src/core/errors.ts";
import { preparePair } from "../../src/data/pair.ts";
import { delay, mono, noise } from "../helpers/signals.ts";

const RATE = 48000;
const x = noise(RATE, 1, 0.2);

function stereo(sampleRate: number, left: Float32Array, right: Float32Array): Audio {
  return { sampleRate, channels: [left, right] };
}

function pairError(code: string, pattern: RegExp) {
  return (error: unknown) => error instanceof PairError && error.code === code && pattern.test(error.message);
}

test("a clean pair passes with its latency removed and reported", () => {
  const { pair, report } = preparePair(mono(RATE, x), mono(RATE, delay(x, 25)));
  assert.equal(report.delay.source, "detected");
  assert.equal(report.delay.delaySamples, 25);
  assert.equal(report.frames, RATE - 25);
  assert.deepEqual(pair.input.channels[0]!.subarray(0, 100), pair.target.channels[0]!.subarray(0, 100));
  assert.deepEqual(report.warnings, []);
});

test("sample rates must match unless resampling is asked for", () => {
  const target = mono(44100, noise(44100, 2));
  assert.throws(
    () => preparePair(mono(RATE, x), target, { targetName: "wet.wav" }),
    pairError("pair/sample-rate", /input is 48000 Hz but wet.wav is 44100 Hz/),
  );
  const { pair, report } = preparePair(mono(RATE, x), target, { resample: true, align: "none" });
  assert.equal(pair.target.sampleRate, RATE);
  assert.equal(report.resampledTargetFromHz, 44100);
  assert.match(report.warnings.join("\n"), /resampled from 44100 Hz/);
});

test("lengths: under a second apart are trimmed with a warning, more is an error", () => {
  const { pair, report } = preparePair(mono(RATE, x), mono(RATE, x.subarray(0, RATE - 480)), {
    align: "none",
  });
  assert.equal(pair.input.channels[0]!.length, RATE - 480);
  assert.equal(report.lengthTrimmedFrames, 480);
  assert.match(report.warnings[0]!, /input is 480 frames longer/);
  const long = noise(3 * RATE, 3);
  assert.throws(
    () => preparePair(mono(RATE, long), mono(RATE, x)),
    pairError("pair/length", /differ by 1 s or more/),
  );
});

test("channel counts must match unless a mixdown or copy is asked for", () => {
  const y = noise(RATE, 4);
  assert.throws(
    () => preparePair(stereo(RATE, x, y), mono(RATE, x)),
    pairError("pair/channels", /mix the input down/),
  );
  const downmixed = preparePair(stereo(RATE, x, y), mono(RATE, x), {
    channels: "downmix-input",
    align: "none",
  });
  assert.equal(downmixed.pair.input.channels.length, 1);
  assert.ok(Math.abs(downmixed.pair.input.channels[0]![10]! - (x[10]! + y[10]!) / 2) < 1e-7);
  assert.equal(downmixed.report.channelHandling, "downmix-input");
  const copied = preparePair(mono(RATE, x), stereo(RATE, x, y), {
    channels: "duplicate-input",
    align: "none",
  });
  assert.equal(copied.pair.input.channels.length, 2);
  assert.equal(copied.pair.input.channels[1], copied.pair.input.channels[0]);
});

test("non-finite samples are an error naming file, channel and frame", () => {
  const bad = x.slice();
  bad[4800] = Number.NaN;
  assert.throws(
    () => preparePair(mono(RATE, x), mono(RATE, bad), { targetName: "wet.wav" }),
    pairError(
      "pair/non-finite",
      /wet.wav has a non-finite sample \(NaN\) in channel 0 at frame 4800 \(0.100 s\)/,
    ),
  );
});

test("silence and clipping are warned about, not refused", () => {
  const quiet = x.map((v) => v * 1e-4);
  const clipped = x.map((v) => Math.max(-1, Math.min(1, v * 20)));
  const { report } = preparePair(mono(RATE, quiet), mono(RATE, clipped), { align: "none" });
  assert.match(report.warnings.join("\n"), /input is nearly silent/);
  assert.match(report.warnings.join("\n"), /target has \d+ samples in flat runs at full scale/);
  assert.ok(report.target.clippedSamples > 1000);
  // A single full-scale peak is not clipping.
  const onePeak = x.slice();
  onePeak[100] = 1;
  assert.equal(
    preparePair(mono(RATE, onePeak), mono(RATE, onePeak), { align: "none" }).report.input.clippedSamples,
    0,
  );
});

test("a given delay is applied as is; none leaves the pair alone", () => {
  const given = preparePair(mono(RATE, x), mono(RATE, delay(x, 10)), { align: 10 });
  assert.deepEqual(given.report.delay, { source: "given", delaySamples: 10 });
  assert.equal(given.pair.target.channels[0]![0], x[0]);
  const none = preparePair(mono(RATE, x), mono(RATE, x), { align: "none" });
  assert.equal(none.report.delay.source, "none");
  assert.equal(none.report.frames, RATE);
});
