import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import { blips, chirps, silence } from "../../src/signals/events.ts";
import { sweep } from "../../src/signals/sweeps.ts";

/** Indices of the nonzero samples. */
function nonzero(signal: Float32Array): number[] {
  const indices: number[] = [];
  signal.forEach((x, i) => {
    if (x !== 0) indices.push(i);
  });
  return indices;
}

describe("blips", () => {
  test("single-sample impulses of `amplitude` exactly at the documented markers, silence elsewhere", () => {
    const audio = blips({
      seconds: 2,
      firstSeconds: 0.25,
      spacingSeconds: 0.5,
      amplitude: 0.8,
      sampleRate: 44100,
    });
    assert.deepEqual(audio.markers, [[11025, 33075, 55125, 77175]]);
    assert.deepEqual(nonzero(audio.channels[0]!), audio.markers[0]);
    for (const marker of audio.markers[0]!) assert.equal(audio.channels[0]![marker], Math.fround(0.8));
  });

  test("clicks of widthSeconds peak at the markers and are symmetric Hann pulses", () => {
    const audio = blips({ seconds: 1, widthSeconds: 0.001, firstSeconds: 0.1, spacingSeconds: 0.3 });
    const channel = audio.channels[0]!;
    assert.deepEqual(audio.markers[0], [4800, 19200, 33600]);
    for (const marker of audio.markers[0]!) {
      assert.equal(channel[marker], Math.fround(0.5));
      for (let j = 1; j <= 24; j++) assert.equal(channel[marker - j], channel[marker + j]);
      assert.ok(channel[marker - 24]! > 0 && channel[marker - 25] === 0, "24 samples each side at 48 kHz");
    }
    assert.equal(nonzero(channel).length, 3 * 49);
  });

  test("stereo: identical shares markers; independent puts channel 2's blips halfway between", () => {
    const same = blips({ seconds: 2, channels: 2 });
    assert.deepEqual(same.markers[1], same.markers[0]);
    assert.deepEqual(same.channels[1], same.channels[0]);
    const independent = blips({ seconds: 2, channels: 2, stereo: "independent" });
    assert.deepEqual(independent.markers[0], [12000, 36000, 60000, 84000]);
    assert.deepEqual(independent.markers[1], [24000, 48000, 72000]);
    assert.deepEqual(nonzero(independent.channels[1]!), independent.markers[1]);
  });

  test("invalid options name the field", () => {
    assert.throws(() => blips({ firstSeconds: 5, seconds: 2 }), /firstSeconds/);
    assert.throws(() => blips({ widthSeconds: 0.6, spacingSeconds: 0.5 }), /widthSeconds/);
    assert.throws(
      () => blips({ spacingSeconds: -1 }),
      (e: unknown) => e instanceof OptionError && /spacingSeconds/.test(e.message),
    );
  });
});

describe("chirps", () => {
  test("whole chirps every chirpSeconds + gapSeconds, each the same faded short sweep", () => {
    const options = { seconds: 1, chirpSeconds: 0.05, gapSeconds: 0.2, startHz: 200, endHz: 8000 } as const;
    const channel = chirps(options).channels[0]!;
    assert.equal(channel.length, 48000);
    const one = sweep({ seconds: 0.05, startHz: 200, endHz: 8000, fadeSeconds: 0.002 }).channels[0]!;
    for (const start of [0, 12000, 24000, 36000]) {
      assert.deepEqual(channel.subarray(start, start + 2400), one, `chirp at ${start}`);
      assert.ok(
        channel.subarray(start + 2400, start + 12000).every((x) => x === 0),
        `gap after ${start}`,
      );
    }
  });

  test("independent stereo: channel 2 chirps down", () => {
    const audio = chirps({ seconds: 0.5, channels: 2, stereo: "independent" });
    const down = chirps({ seconds: 0.5, startHz: 10000, endHz: 100 });
    assert.deepEqual(audio.channels[1], down.channels[0]);
  });

  test("invalid options name the field", () => {
    assert.throws(() => chirps({ chirpSeconds: 2, seconds: 1 }), /chirpSeconds/);
    assert.throws(() => chirps({ endHz: 5000, sampleRate: 8000 }), /endHz/);
  });
});

describe("silence", () => {
  test("all zeros, exact length, any channel count", () => {
    const audio = silence({ seconds: 0.75, channels: 2, sampleRate: 22050 });
    assert.equal(audio.channels.length, 2);
    for (const channel of audio.channels) {
      assert.equal(channel.length, Math.round(0.75 * 22050));
      assert.ok(channel.every((x) => x === 0));
    }
  });
});
