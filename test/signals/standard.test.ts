import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import { standard, standardLayout } from "../../src/signals/standard.ts";
import { correlation } from "../helpers/signals.ts";

const peakOf = (signal: Float32Array) => signal.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe("standard", () => {
  // one render shared by the checks below (20 s, the shortest allowed)
  const audio = standard({ seconds: 20, amplitude: 0.6 });
  const channel = audio.channels[0]!;

  test("exact length; peak = amplitude; the markers are the only sound before the sweeps", () => {
    assert.equal(channel.length, 20 * 48000);
    assert.equal(peakOf(channel), Math.fround(0.6));
    assert.deepEqual(audio.markers, [[24000, 48000, 72000]]);
    const firstSweep = audio.sections.find((section) => section.kind === "sweep")!;
    const sounding: number[] = [];
    for (let i = 0; i < firstSweep.start; i++) if (channel[i] !== 0) sounding.push(i);
    assert.deepEqual(sounding, audio.markers[0]);
    for (const marker of audio.markers[0]!) assert.equal(channel[marker], Math.fround(0.6));
  });

  test("sections tile the signal in order; silences are silent; levels follow levelsDb", () => {
    let expectedStart = 0;
    for (const section of audio.sections) {
      assert.equal(section.start, expectedStart);
      assert.ok(section.end > section.start, section.label);
      expectedStart = section.end;
      const part = channel.subarray(section.start, section.end);
      if (section.kind === "silence") assert.equal(peakOf(part), 0, section.label);
      else {
        const db = 20 * Math.log10(peakOf(part) / 0.6);
        assert.ok(Math.abs(db - section.levelDb) < 0.01, `${section.label}: peak at ${db.toFixed(2)} dB`);
      }
    }
    assert.equal(expectedStart, channel.length);
    const kinds = new Set(audio.sections.map((section) => section.kind));
    assert.deepEqual([...kinds].sort(), ["blips", "chirps", "chord", "melody", "noise", "silence", "sweep"]);
    assert.ok(
      audio.sections.at(-1)!.end - audio.sections.at(-1)!.start >= 48000,
      "ends in at least 1 s of silence",
    );
  });

  test("standardLayout gives the same markers and sections without rendering", () => {
    const layout = standardLayout({ seconds: 20, amplitude: 0.6 });
    assert.equal(layout.frames, channel.length);
    assert.deepEqual(layout.markers, audio.markers[0]);
    assert.deepEqual(layout.sections, audio.sections);
  });

  test("markers land on the blips at other rates too", () => {
    for (const sampleRate of [44100, 22050, 11025]) {
      const layout = standardLayout({ seconds: 20, sampleRate });
      const rendered = standard({ seconds: 20, sampleRate, channels: 1 });
      const blipSection = layout.sections.find((section) => section.kind === "blips")!;
      const part = rendered.channels[0]!.subarray(0, blipSection.end);
      const sounding: number[] = [];
      part.forEach((x, i) => {
        if (x !== 0) sounding.push(i);
      });
      assert.deepEqual(sounding, layout.markers, `${sampleRate} Hz`);
    }
  });

  test("independent stereo: blips identical on both channels, the rest uncorrelated; seed changes content", () => {
    const stereo = standard({ seconds: 20, channels: 2, stereo: "independent" });
    const [left, right] = [stereo.channels[0]!, stereo.channels[1]!];
    const body = stereo.sections.find((section) => section.kind === "sweep")!.start;
    assert.deepEqual(left.subarray(0, body), right.subarray(0, body));
    assert.deepEqual(stereo.markers[1], stereo.markers[0]);
    const r = correlation(left.subarray(body), right.subarray(body));
    assert.ok(Math.abs(r) < 0.1, `body correlation ${r}`);
    const again = standard({ seconds: 20, channels: 2, stereo: "independent" });
    assert.deepEqual(again.channels, stereo.channels);
    const reseeded = standard({ seconds: 20, seed: 2 });
    assert.notDeepEqual(reseeded.channels[0], standard({ seconds: 20 }).channels[0]);
  });

  test("invalid options name the field", () => {
    assert.throws(
      () => standard({ seconds: 10 }),
      (e: unknown) => e instanceof OptionError && /seconds: expected >= 20/.test(e.message),
    );
    assert.throws(() => standard({ levelsDb: [3] }), /levelsDb/);
    assert.throws(() => standard({ levelsDb: [] }), /levelsDb/);
  });
});
