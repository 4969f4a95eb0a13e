import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { powerSpectrum } from "../../src/dsp/fft.ts";
import { midiToHz } from "../../src/signals/common.ts";
import { addPiano, addPluck } from "../../src/signals/instruments.ts";
import { melody } from "../../src/signals/melody.ts";
import { chord, tone } from "../../src/signals/tones.ts";
import { correlation } from "../helpers/signals.ts";

const RATE = 48000;

/** Frequency of the loudest spectral peak between minHz and maxHz, refined by parabolic interpolation. */
function peakHz(signal: Float32Array | Float64Array, minHz: number, maxHz: number, fftSize = 16384): number {
  const power = powerSpectrum(signal, fftSize);
  const binHz = RATE / fftSize;
  let best = Math.ceil(minHz / binHz);
  for (let k = best; k * binHz <= maxHz; k++) if (power[k]! > power[best]!) best = k;
  const [a, b, c] = [power[best - 1]!, power[best]!, power[best + 1]!].map((p) => Math.log(p));
  return (best + (0.5 * (a! - c!)) / (a! - 2 * b! + c!)) * binHz;
}

/** Spectral peaks at least 20 dB above the median, as frequencies (Hz). */
function strongPeaks(signal: Float32Array, maxHz: number): number[] {
  const fftSize = 16384;
  const power = powerSpectrum(signal, fftSize);
  const binHz = RATE / fftSize;
  const top = Math.max(...power);
  const peaks: number[] = [];
  for (let k = 2; k * binHz < maxHz; k++) {
    if (power[k]! > power[k - 1]! && power[k]! >= power[k + 1]! && power[k]! > top * 1e-3)
      peaks.push(k * binHz);
  }
  return peaks;
}

const peakOf = (signal: Float32Array) => signal.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe("tone", () => {
  test("plays frequencyHz or a MIDI note at the right pitch, peak = amplitude, exact length", () => {
    const byHz = tone({ frequencyHz: 1234.5, seconds: 1.5, amplitude: 0.25 }).channels[0]!;
    assert.equal(byHz.length, 72000);
    assert.equal(peakOf(byHz), Math.fround(0.25));
    assert.ok(Math.abs(peakHz(byHz, 100, 5000) - 1234.5) < 0.5);
    const byNote = tone({ note: 57, waveform: "square", seconds: 1 }).channels[0]!;
    assert.ok(Math.abs(peakHz(byNote, 100, 400) - 220) < 0.2, "MIDI 57 = A3 = 220 Hz");
    assert.ok(Math.abs(midiToHz(60) - 261.6256) < 1e-4);
  });

  test("attack and release are raised-cosine ramps of the given seconds", () => {
    const audio = tone({ frequencyHz: 1000, seconds: 1, attackSeconds: 0.1, releaseSeconds: 0.2 })
      .channels[0]!;
    const level = (from: number, to: number) => peakOf(audio.subarray(from, to));
    assert.ok(level(0, 240) < 0.01, "silent at the very start");
    // one 1 kHz period (48 samples) centred on a ramp's midpoint peaks at ~amplitude / 2
    const halfWay = (center: number) => level(center - 24, center + 24);
    assert.ok(Math.abs(halfWay(2400) - 0.25) < 0.02, `half way up at 50 ms: ${halfWay(2400)}`);
    assert.ok(level(4800, 38400) > 0.49, "full level between attack and release");
    assert.ok(
      Math.abs(halfWay(43200) - 0.25) < 0.02,
      `half way down 100 ms before the end: ${halfWay(43200)}`,
    );
    assert.ok(level(47760, 48000) < 0.01, "silent at the very end");
  });

  test("independent stereo: channel 2 is a seeded, non-tempered interval lower and uncorrelated", () => {
    const audio = tone({
      note: 60,
      waveform: "sawtooth",
      seconds: 1,
      channels: 2,
      stereo: "independent",
      seed: 3,
    });
    const [left, right] = [audio.channels[0]!, audio.channels[1]!];
    assert.ok(Math.abs(correlation(left, right)) < 0.1);
    const semitones = 12 * Math.log2(peakHz(left, 100, 400) / peakHz(right, 50, 400));
    assert.ok(semitones > 1.3 && semitones < 10.7, `${semitones} semitones`);
    const fraction = semitones - Math.floor(semitones);
    assert.ok(fraction > 0.3 && fraction < 0.7, `${semitones} is not near a tempered interval`);
    const other = tone({
      note: 60,
      waveform: "sawtooth",
      seconds: 1,
      channels: 2,
      stereo: "independent",
      seed: 4,
    });
    assert.notDeepEqual(other.channels[1], right, "the seed picks the interval");
    assert.deepEqual(other.channels[0], left, "channel 1 is the mono tone whatever the seed");
  });

  test("invalid options name the field", () => {
    assert.throws(() => tone({ frequencyHz: 440, note: 60 }), /note: expected frequencyHz or note, not both/);
    assert.throws(
      () => tone({ frequencyHz: 30000 }),
      (e: unknown) => e instanceof OptionError && /frequencyHz/.test(e.message),
    );
    assert.throws(() => tone({ note: 128 }), /note/);
    assert.throws(() => tone({ seconds: 0.1, attackSeconds: 0.1, releaseSeconds: 0.1 }), /releaseSeconds/);
  });
});

describe("chord", () => {
  test("a named chord sounds its notes; explicit notes do too", () => {
    const minor = chord({ chord: "minor", root: 57, waveform: "sine", seconds: 1 }).channels[0]!;
    const found = strongPeaks(minor, 1000).map((hz) => Math.round(12 * Math.log2(hz / 440) + 69));
    assert.deepEqual(found, [57, 60, 64]);
    const listed = chord({ notes: [40, 47, 52, 56], waveform: "sine", seconds: 1 }).channels[0]!;
    assert.deepEqual(
      strongPeaks(listed, 1000).map((hz) => Math.round(12 * Math.log2(hz / 440) + 69)),
      [40, 47, 52, 56],
    );
    assert.equal(peakOf(listed), Math.fround(0.5));
  });

  test("seeded starting phases: same seed identical, another seed differs", () => {
    const a = chord({ seed: 9, seconds: 0.3 }).channels[0]!;
    assert.deepEqual(chord({ seed: 9, seconds: 0.3 }).channels[0], a);
    assert.notDeepEqual(chord({ seed: 10, seconds: 0.3 }).channels[0], a);
  });

  test("independent stereo is uncorrelated even though chord notes could meet across channels", () => {
    for (const seed of [1, 2, 3]) {
      const audio = chord({ chord: "major", seconds: 1, channels: 2, stereo: "independent", seed });
      const r = correlation(audio.channels[0]!, audio.channels[1]!);
      assert.ok(Math.abs(r) < 0.1, `seed ${seed}: r = ${r}`);
    }
  });

  test("invalid options name the field", () => {
    assert.throws(() => chord({ notes: [60], chord: "major" }), /chord: expected notes or chord, not both/);
    assert.throws(() => chord({ chord: "major9" as "major" }), /chord/);
    assert.throws(() => chord({ notes: [] }), /notes/);
    assert.throws(
      () => chord({ notes: [127], sampleRate: 8000 }),
      /notes: expected a frequency below Nyquist/,
    );
  });
});

describe("instruments", () => {
  test("the plucked string and the piano note sound at their pitch and decay", () => {
    for (const hz of [82.41, 220, 659.3]) {
      const pluck = new Float64Array(RATE);
      addPluck(pluck, { start: 0, seconds: 1, hz, gain: 1, velocity: 0.8 }, RATE, new Rng(1));
      const piano = new Float64Array(RATE);
      addPiano(piano, { start: 0, seconds: 1, hz, gain: 1, velocity: 0.8 }, RATE, new Rng(1));
      for (const [name, signal, expected] of [
        ["pluck", pluck, hz],
        ["piano", piano, hz * Math.sqrt(1 + 3e-4)], // stiff-string first partial
      ] as const) {
        const measured = peakHz(signal, hz * 0.8, hz * 1.2);
        const cents = 1200 * Math.log2(measured / expected);
        assert.ok(
          Math.abs(cents) < 5,
          `${name} ${hz} Hz: ${measured.toFixed(2)} Hz (${cents.toFixed(1)} cents)`,
        );
        const energy = (from: number, to: number) => signal.subarray(from, to).reduce((s, x) => s + x * x, 0);
        assert.ok(energy(38400, 48000) < 0.8 * energy(0, 9600), `${name} ${hz} Hz decays`);
      }
    }
  });
});

describe("melody", () => {
  test("same seed bit-identical, other seed differs, peak = amplitude, exact length", () => {
    const a = melody({ seconds: 4, seed: 11, sampleRate: 44100, amplitude: 0.7 }).channels[0]!;
    assert.equal(a.length, 4 * 44100);
    assert.equal(peakOf(a), Math.fround(0.7));
    assert.deepEqual(melody({ seconds: 4, seed: 11, sampleRate: 44100, amplitude: 0.7 }).channels[0], a);
    assert.notDeepEqual(melody({ seconds: 4, seed: 12, sampleRate: 44100, amplitude: 0.7 }).channels[0], a);
  });

  test("is music-like: notes of the scale, level that moves, no long silences", () => {
    const audio = melody({ seconds: 8, instrument: "piano", scale: "major", rootNote: 60, seed: 2 })
      .channels[0]!;
    // the strongest pitches are notes of C major
    const cMajor = new Set([0, 2, 4, 5, 7, 9, 11]);
    const notes = strongPeaks(audio, 1200).map((hz) => Math.round(12 * Math.log2(hz / 440) + 69));
    const inScale = notes.filter((note) => cMajor.has(((note % 12) + 12) % 12)).length;
    assert.ok(inScale >= 0.8 * notes.length, `${inScale} of ${notes.length} peaks in the scale`);
    // RMS per 250 ms: never silent, and it varies (attacks and decays) by more than 6 dB
    const levels: number[] = [];
    for (let start = 0; start + 12000 <= audio.length; start += 12000) {
      const e = audio.subarray(start, start + 12000).reduce((s, x) => s + x * x, 0) / 12000;
      levels.push(10 * Math.log10(e));
    }
    assert.ok(Math.min(...levels) > -60, `quietest quarter second ${Math.min(...levels).toFixed(1)} dB`);
    assert.ok(Math.max(...levels) - Math.min(...levels) > 6, "the level moves");
  });

  test("independent stereo plays a different seeded melody per channel", () => {
    const audio = melody({ seconds: 6, channels: 2, stereo: "independent" });
    assert.ok(Math.abs(correlation(audio.channels[0]!, audio.channels[1]!)) < 0.15);
    assert.deepEqual(audio.channels[0], melody({ seconds: 6 }).channels[0], "channel 1 is the mono melody");
  });

  test("invalid options name the field", () => {
    assert.throws(() => melody({ instrument: "violin" as "piano" }), /instrument/);
    assert.throws(() => melody({ rootNote: 84, sampleRate: 8000 }), /rootNote/);
    assert.throws(() => melody({ tempoBpm: 0 }), /tempoBpm/);
  });
});
