import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeAudio } from "../../../src/audio/audio.ts";
import { OptionError, ToolError } from "../../../src/core/errors.ts";
import {
  renderSox,
  soxBass,
  soxChorus,
  soxCompand,
  soxEcho,
  soxEffects,
  soxEqualizer,
  soxFlanger,
  soxOverdrive,
  soxPhaser,
  soxReverb,
  soxTreble,
  soxTremolo,
} from "../../../src/node/effects/sox.ts";
import {
  assertSameAudio,
  assertShapeOf,
  correlationLag,
  db,
  harmonicsDb,
  impulse,
  material,
  mono,
  noise,
  peakIndex,
  RATES,
  render,
  rmsOf,
  sine,
  toneAmplitude,
} from "./helpers.ts";

/**
 * The sox engine against the real sox (Debian `sox`). Skipped with the install line when sox is missing
 * (CI installs it).
 */

const reason = await soxOverdrive.unavailableReason!();
const skip = reason === undefined ? false : `sox.*: ${reason}`;

describe("sox effects", { skip }, () => {
  test("every effect renders bit-identically twice, with the input's shape", async () => {
    const input = makeAudio(48000, [material(48000), noise(24000, 3, 0.1)]);
    for (const effect of soxEffects) {
      const first = await render(effect, input);
      const second = await render(effect, input);
      assertShapeOf(first.audio, input, effect.name);
      assertSameAudio(first.audio, second.audio, `${effect.name} rendered twice`);
      assert.equal(first.latencySamples, 0, `${effect.name} latency`);
      assert.ok(rmsOf(first.audio.channels[0]!) > 0.01, `${effect.name} output is not silent`);
    }
  });

  test("every effect keeps length and level across 44.1, 48 and 96 kHz", async () => {
    for (const effect of soxEffects) {
      const levels: number[] = [];
      for (const rate of RATES) {
        const input = mono(rate, material(rate));
        const { audio } = await render(effect, input);
        assertShapeOf(audio, input, `${effect.name} at ${rate} Hz`);
        levels.push(db(rmsOf(audio.channels[0]!)));
      }
      const spread = Math.max(...levels) - Math.min(...levels);
      assert.ok(spread < 1.5, `${effect.name}: output level varies by ${spread.toFixed(2)} dB across rates`);
    }
  });

  test("overdrive adds harmonics to a sine, more with more gain, and colour adds even ones", async () => {
    const rate = 48000;
    const input = mono(rate, sine(rate, 200, 0.5, 0.5));
    const window = [4800, 19200] as const; // 0.1 s .. 0.5 s: 80 whole periods
    const clean = harmonicsDb(input.channels[0]!, rate, 200, ...window);
    const thd = async (parameters: Record<string, unknown>, which: "all" | "even" = "all") =>
      harmonicsDb(
        (await render(soxOverdrive, input, parameters)).audio.channels[0]!,
        rate,
        200,
        ...window,
        which,
      );
    const light = await thd({ gainDb: 6 });
    const heavy = await thd({ gainDb: 30 });
    assert.ok(clean < -80, `the input sine is clean (${clean.toFixed(1)} dB)`);
    assert.ok(light > -40, `gain 6 dB distorts (${light.toFixed(1)} dB)`);
    assert.ok(heavy > light + 6, `more gain, more harmonics (${light.toFixed(1)} -> ${heavy.toFixed(1)} dB)`);
    const evenPlain = await thd({ gainDb: 20, colour: 0 }, "even");
    const evenColoured = await thd({ gainDb: 20, colour: 80 }, "even");
    assert.ok(
      evenColoured > evenPlain + 20,
      `colour adds even harmonics (${evenPlain.toFixed(1)} -> ${evenColoured.toFixed(1)} dB)`,
    );
  });

  test("compand narrows the level difference between a quiet and a loud passage, and stays aligned", async () => {
    const rate = 48000;
    const x = sine(rate, 500, 2, 1);
    for (let n = 0; n < x.length; n++) x[n]! *= n < rate ? 0.01 : 0.5; // -40 dBFS then -6 dBFS
    const input = mono(rate, x);
    const parameters = { attackSeconds: 0.01, decaySeconds: 0.05, delaySeconds: 0.05, gainDb: 0 };
    const { audio } = await render(soxCompand, input, parameters);
    const y = audio.channels[0]!;
    const before = db(rmsOf(x, 1.5 * rate, 2 * rate) / rmsOf(x, 0.5 * rate, rate));
    const after = db(rmsOf(y, 1.5 * rate, 2 * rate) / rmsOf(y, 0.5 * rate, rate));
    assert.ok(after < before - 15, `3:1 compression: ${before.toFixed(1)} dB -> ${after.toFixed(1)} dB`);
    // The look-ahead delay does not shift the output: the steady loud part lines up with the input.
    const lag = correlationLag(x.subarray(1.5 * rate), y.subarray(1.5 * rate), 200);
    assert.ok(Math.abs(lag) < 0.5, `compand output aligned with its input (lag ${lag.toFixed(2)})`);
  });

  test("compand with look-ahead keeps stereo channels in place at odd delays", async () => {
    const rate = 44100;
    const left = sine(rate, 300, 0.5, 0.5);
    const input = makeAudio(rate, [left, new Float32Array(left.length)]);
    const { audio } = await render(soxCompand, input, { delaySeconds: 0.12345 });
    assert.ok(rmsOf(audio.channels[0]!) > 0.1, "left keeps the signal");
    assert.ok(rmsOf(audio.channels[1]!) < 1e-6, "right stays silent (no channel swap)");
  });

  test("reverb rings on after the input stops; wetOnly drops the dry signal; mono stays mono", async () => {
    const rate = 48000;
    const x = noise(rate, 11, 0.1);
    x.fill(0, rate / 4);
    const input = mono(rate, x);
    const wet = (await render(soxReverb, input)).audio.channels[0]!;
    const tail = rmsOf(wet, rate / 4 + 2400, rate / 2);
    assert.ok(tail > 0.005, `tail after the input stops (${tail.toFixed(4)})`);
    const dryTail = rmsOf(x, rate / 4 + 2400, rate / 2);
    assert.equal(dryTail, 0);
    const wetOnly = (await render(soxReverb, input, { wetOnly: true })).audio.channels[0]!;
    const dryPart = Math.abs(correlationLag(x.subarray(0, rate / 4), wet.subarray(0, rate / 4), 2));
    assert.ok(dryPart < 0.5, "with dry: output correlates with the input at lag 0");
    // Without the dry signal, the output at lag 0 holds little of the input.
    let dot = 0;
    for (let n = 0; n < rate / 4; n++) dot += x[n]! * wetOnly[n]!;
    const dryLevel = dot / (rmsOf(x, 0, rate / 4) ** 2 * (rate / 4));
    assert.ok(Math.abs(dryLevel) < 0.2, `wetOnly has no dry copy (gain ${dryLevel.toFixed(3)})`);
    const stereo = makeAudio(rate, [x, x]);
    assert.equal((await render(soxReverb, stereo)).audio.channels.length, 2);
  });

  test("echo puts one reflection at delayMs, scaled by decay, at every rate", async () => {
    for (const rate of RATES) {
      const x = impulse(rate, 0.5, 0.05, 0.5);
      const { audio } = await render(soxEcho, mono(rate, x), {
        gainIn: 0.8,
        gainOut: 0.9,
        delayMs: 100,
        decay: 0.5,
      });
      const y = audio.channels[0]!;
      const at = Math.round(0.05 * rate);
      const delay = Math.round(0.1 * rate);
      assert.ok(
        Math.abs(y[at]! - 0.5 * 0.8 * 0.9) < 1e-6,
        `${rate} Hz: dry = gainIn * gainOut * x (${y[at]})`,
      );
      assert.ok(Math.abs(y[at + delay]! - 0.5 * 0.5 * 0.9) < 1e-6, `${rate} Hz: echo = decay * gainOut * x`);
      assert.equal(peakIndex(y, at + 1), at + delay, `${rate} Hz: the echo lies ${delay} samples later`);
      const rest = rmsOf(y, at + delay + 1);
      assert.ok(rest < 1e-6, `${rate} Hz: one reflection, no feedback`);
    }
  });

  test("chorus adds one modulated copy around delayMs at decay's level", async () => {
    const rate = 48000;
    const x = impulse(rate, 0.5, 0.05, 0.5);
    const o = { gainIn: 0.7, gainOut: 0.9, delayMs: 40, decay: 0.4, depthMs: 3 };
    const y = (await render(soxChorus, mono(rate, x), o)).audio.channels[0]!;
    const at = 0.05 * rate;
    assert.ok(Math.abs(y[at]! - 0.5 * 0.7 * 0.9) < 1e-6, "dry part");
    const copy = peakIndex(y, at + 1);
    const copyMs = ((copy - at) / rate) * 1000;
    assert.ok(copyMs >= 40 - 3 - 0.1 && copyMs <= 40 + 3 + 0.1, `copy at ${copyMs.toFixed(2)} ms (40 +- 3)`);
    let copyEnergy = 0;
    for (let i = copy - 2; i <= copy + 2; i++) copyEnergy += y[i]!;
    assert.ok(Math.abs(copyEnergy - 0.5 * 0.4 * 0.9) < 0.01, `copy level ${copyEnergy.toFixed(3)}`);
  });

  test("flanger adds a copy swept between delayMs and delayMs + depthMs", async () => {
    const rate = 48000;
    const x = new Float32Array(rate);
    for (let k = 1; k < 10; k++) x[k * 4800] = 0.5; // impulses every 0.1 s across half a 0.5 Hz sweep
    const y = (await render(soxFlanger, mono(rate, x), { delayMs: 5, depthMs: 4 })).audio.channels[0]!;
    const lags: number[] = [];
    for (let k = 1; k < 10; k++) {
      const at = k * 4800;
      lags.push(((peakIndex(y, at + 1, at + 0.02 * rate) - at) / rate) * 1000);
    }
    assert.ok(
      Math.min(...lags) >= 5 - 0.05 && Math.max(...lags) <= 9 + 0.05,
      `copies at ${lags.map((l) => l.toFixed(2))} ms`,
    );
    assert.ok(Math.max(...lags) - Math.min(...lags) > 1, "the delay sweeps");
  });

  test("phaser feeds back a modulated delay of at most delayMs, each repeat decay times the last", async () => {
    const rate = 48000;
    const x = new Float32Array(rate);
    for (let k = 1; k < 10; k++) x[k * 4800] = 0.5;
    const o = { gainIn: 0.4, gainOut: 0.74, delayMs: 3, decay: 0.4 };
    const y = (await render(soxPhaser, mono(rate, x), o)).audio.channels[0]!;
    const lags: number[] = [];
    for (let k = 1; k < 10; k++) {
      const at = k * 4800;
      assert.ok(Math.abs(y[at]! - 0.5 * 0.4 * 0.74) < 1e-6, "dry part");
      const first = peakIndex(y, at + 1, at + 0.01 * rate);
      lags.push(first - at);
      assert.ok(
        Math.abs(y[first]! / y[at]! - 0.4) < 0.02,
        `repeat level ${(y[first]! / y[at]!).toFixed(3)} = decay`,
      );
    }
    assert.ok(Math.max(...lags) <= 3 * 48 + 1 && Math.min(...lags) >= 1, `repeat lags ${lags} samples`);
    assert.ok(Math.max(...lags) - Math.min(...lags) > 20, "the delay is modulated");
  });

  test("tremolo modulates the level at speedHz with depthPercent, at every rate", async () => {
    for (const rate of RATES) {
      const x = sine(rate, 1000, 1, 0.5);
      const y = (await render(soxTremolo, mono(rate, x), { speedHz: 7, depthPercent: 60 })).audio
        .channels[0]!;
      // Envelope: RMS over 1 ms blocks (1 period of the carrier) -> 1000 Hz envelope rate.
      const edge = (b: number) => Math.round((b * rate) / 1000);
      const envelope = Float32Array.from(
        { length: 1000 },
        (_, b) => rmsOf(y, edge(b), edge(b + 1)) * Math.SQRT2,
      );
      const mean = envelope.reduce((s, v) => s + v, 0) / envelope.length;
      let crossings = 0;
      for (let i = 1; i < envelope.length; i++)
        if ((envelope[i - 1]! - mean) * (envelope[i]! - mean) < 0) crossings++;
      assert.ok(
        Math.abs(crossings / 2 - 7) <= 1,
        `${rate} Hz: ${crossings / 2} envelope cycles in 1 s, expected 7`,
      );
      const low = Math.min(...envelope);
      const high = Math.max(...envelope);
      assert.ok(Math.abs(high - 0.5) < 0.02, `${rate} Hz: gain peaks at 1 (envelope ${high.toFixed(3)})`);
      assert.ok(
        Math.abs(low / high - 0.4) < 0.03,
        `${rate} Hz: trough at 1 - depth (${(low / high).toFixed(3)})`,
      );
    }
  });

  test("equalizer boosts or cuts its band by gainDb and leaves far frequencies alone, at every rate", async () => {
    for (const rate of RATES) {
      for (const gainDb of [9, -9]) {
        const probe = async (hz: number) => {
          const x = sine(rate, hz, 0.5, 0.25);
          const y = (await render(soxEqualizer, mono(rate, x), { frequencyHz: 2000, width: 1, gainDb })).audio
            .channels[0]!;
          const start = 0.2 * rate;
          const frames = 0.25 * rate;
          return db(toneAmplitude(y, rate, hz, start, frames) / toneAmplitude(x, rate, hz, start, frames));
        };
        const centre = await probe(2000);
        const far = await probe(100);
        assert.ok(
          Math.abs(centre - gainDb) < 0.3,
          `${rate} Hz, ${gainDb} dB: centre ${centre.toFixed(2)} dB`,
        );
        assert.ok(Math.abs(far) < 0.3, `${rate} Hz, ${gainDb} dB: 100 Hz changes by ${far.toFixed(2)} dB`);
      }
    }
  });

  test("bass and treble shelve the ends of the band by gainDb", async () => {
    for (const rate of [44100, 96000]) {
      const gainAt = async (effect: typeof soxBass, hz: number) => {
        const x = sine(rate, hz, 1, 0.25);
        const y = (await render(effect, mono(rate, x), { gainDb: 10 })).audio.channels[0]!;
        return db(
          toneAmplitude(y, rate, hz, 0.4 * rate, 0.5 * rate) /
            toneAmplitude(x, rate, hz, 0.4 * rate, 0.5 * rate),
        );
      };
      const bassLow = await gainAt(soxBass, 20);
      const bassHigh = await gainAt(soxBass, 5000);
      const trebleLow = await gainAt(soxTreble, 100);
      const trebleHigh = await gainAt(soxTreble, 18000);
      assert.ok(bassLow > 8.5 && bassLow < 10.2, `${rate} Hz: bass +10 at 20 Hz: ${bassLow.toFixed(2)} dB`);
      assert.ok(Math.abs(bassHigh) < 0.3, `${rate} Hz: bass at 5 kHz: ${bassHigh.toFixed(2)} dB`);
      assert.ok(
        trebleHigh > 8.5 && trebleHigh < 10.2,
        `${rate} Hz: treble +10 at 18 kHz: ${trebleHigh.toFixed(2)} dB`,
      );
      assert.ok(Math.abs(trebleLow) < 0.3, `${rate} Hz: treble at 100 Hz: ${trebleLow.toFixed(2)} dB`);
    }
  });

  test("frequencies at or above Nyquist and impossible rules are OptionErrors before sox runs", async () => {
    const input = mono(8000, sine(8000, 440, 0.1));
    await assert.rejects(render(soxEqualizer, input, { frequencyHz: 4000 }), OptionError);
    await assert.rejects(render(soxTreble, input, { width: 1.5 }), OptionError);
    await assert.rejects(render(soxChorus, input, { delayMs: 10 }), OptionError);
  });

  test("a failing sox is a tool/failed error quoting sox's stderr", async () => {
    const input = mono(48000, sine(48000, 440, 0.1));
    await assert.rejects(renderSox(input, ["overdrive", "500"]), (error: unknown) => {
      assert.ok(error instanceof ToolError);
      assert.equal(error.code, "tool/failed");
      assert.match(error.message, /sox exited with code \d+; stderr: .*overdrive.*gain/);
      return true;
    });
  });

  test("zero-length audio comes back empty without running sox", async () => {
    const input = makeAudio(48000, [new Float32Array(0)]);
    const { audio } = await render(soxReverb, input);
    assert.equal(audio.channels[0]!.length, 0);
  });
});
