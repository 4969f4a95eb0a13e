import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import { powerSpectrum } from "../../src/dsp/fft.ts";
import { addBandLimited, addBandLimitedReference, sweepPhase } from "../../src/signals/oscillators.ts";
import { sweep } from "../../src/signals/sweeps.ts";
import { correlation } from "../helpers/signals.ts";

const RATE = 48000;

/**
 * Frequency of `signal` around sample `center` from its zero crossings in a window of `width` samples:
 * crossing times are interpolated linearly between samples, and f = (crossings - 1) / (2 (last - first)).
 */
function zeroCrossingHz(signal: Float32Array, center: number, width: number, sampleRate: number): number {
  const times: number[] = [];
  for (let n = center - width / 2; n < center + width / 2; n++) {
    const a = signal[n]!;
    const b = signal[n + 1]!;
    if ((a < 0 && b >= 0) || (a >= 0 && b < 0)) times.push(n + a / (a - b));
  }
  return ((times.length - 1) / (2 * (times.at(-1)! - times[0]!))) * sampleRate;
}

/** A naive (not band-limited) sawtooth following the same phase law: the thing band-limiting must beat. */
function naiveSaw(startHz: number, endHz: number, frames: number): Float32Array {
  const phase = new Float64Array(frames);
  const hz = new Float64Array(frames);
  sweepPhase(phase, hz, startHz, endHz, "linear", RATE);
  return Float32Array.from(phase, (p) => {
    const cycles = p / (2 * Math.PI) + 0.5;
    return 2 * (cycles - Math.floor(cycles)) - 1;
  });
}

/** Power in dB relative to `reference` for each bin, and the loudest bin not within `isAllowed`. */
function worstForbiddenDb(
  power: Float64Array,
  reference: number,
  isAllowed: (hz: number) => boolean,
): number {
  let worst = 0;
  power.forEach((p, bin) => {
    if (!isAllowed((bin * RATE) / (2 * (power.length - 1))) && p > worst) worst = p;
  });
  return 10 * Math.log10(worst / reference);
}

describe("sweep", () => {
  test("length is seconds * sampleRate rounded, peak equals amplitude", () => {
    for (const waveform of ["sine", "triangle", "square", "sawtooth"] as const) {
      const audio = sweep({ waveform, seconds: 0.123456, sampleRate: 44100, amplitude: 0.3 });
      assert.equal(audio.channels[0]!.length, Math.round(0.123456 * 44100));
      assert.equal(audio.sampleRate, 44100);
      const peak = audio.channels[0]!.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      assert.equal(peak, Math.fround(0.3), waveform);
    }
  });

  test("linear sweep: zero-crossing frequency follows f0 + (f1 - f0) t / T within 1%", () => {
    const seconds = 2;
    const frames = seconds * RATE;
    const audio = sweep({ mode: "linear", startHz: 200, endHz: 8000, seconds, fadeSeconds: 0 });
    for (const fraction of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      const center = Math.round(fraction * frames);
      const expected = 200 + (8000 - 200) * (center / (frames - 1));
      const measured = zeroCrossingHz(audio.channels[0]!, center, 960, RATE);
      assert.ok(Math.abs(measured / expected - 1) < 0.01, `t=${fraction}: ${measured} vs ${expected}`);
    }
  });

  test("exponential sweep, up and down: zero-crossing frequency follows f0 (f1/f0)^(t/T) within 1%", () => {
    const seconds = 2;
    const frames = seconds * RATE;
    for (const [startHz, endHz] of [
      [100, 10000],
      [12000, 300],
    ] as const) {
      const audio = sweep({ mode: "exponential", startHz, endHz, seconds, fadeSeconds: 0 });
      for (const fraction of [0.1, 0.3, 0.5, 0.7, 0.9]) {
        const center = Math.round(fraction * frames);
        const expected = startHz * (endHz / startHz) ** (center / (frames - 1));
        const measured = zeroCrossingHz(audio.channels[0]!, center, 2400, RATE);
        assert.ok(
          Math.abs(measured / expected - 1) < 0.01,
          `${startHz}->${endHz} t=${fraction}: ${measured} vs ${expected}`,
        );
      }
    }
  });

  test("steady ~5 kHz saw and square: harmonics only, nothing aliased (< -80 dB), unlike a naive saw", () => {
    const fftSize = 4096;
    const bin = RATE / fftSize;
    const hz = 427 * bin; // 5003.9 Hz, bin-centred so a harmonic occupies only bins k*427 +- 1
    const nearHarmonic = (step: number) => (f: number) => {
      const k = Math.round(f / hz);
      return k >= 1 && (step === 1 || k % 2 === 1) && Math.abs(f - k * hz) <= 1.5 * bin;
    };
    const fundamentalPower = (power: Float64Array) => power[426]! + power[427]! + power[428]!;
    for (const [waveform, step] of [
      ["sawtooth", 1],
      ["square", 2],
    ] as const) {
      const audio = sweep({ waveform, mode: "linear", startHz: hz, endHz: hz, seconds: 1, fadeSeconds: 0 });
      const power = powerSpectrum(audio.channels[0]!, fftSize);
      const worst = worstForbiddenDb(power, fundamentalPower(power), nearHarmonic(step));
      assert.ok(worst < -80, `${waveform}: loudest non-harmonic bin ${worst.toFixed(1)} dB`);
      // and the harmonics are the waveform's: the 3rd is 1/3 of the fundamental (-9.5 dB)
      const third = 10 * Math.log10((power[1280]! + power[1281]! + power[1282]!) / fundamentalPower(power));
      assert.ok(Math.abs(third + 9.54) < 0.3, `${waveform}: 3rd harmonic ${third.toFixed(2)} dB`);
    }
    const naive = naiveSaw(hz, hz, RATE);
    const naivePower = powerSpectrum(naive, fftSize);
    const naiveWorst = worstForbiddenDb(naivePower, fundamentalPower(naivePower), nearHarmonic(1));
    assert.ok(
      naiveWorst > -40,
      `the check must catch aliasing: naive saw's worst bin ${naiveWorst.toFixed(1)} dB`,
    );
  });

  test("saw sweep 5-5.5 kHz: no energy between the harmonic bands (< -80 dB), unlike a naive saw sweep", () => {
    const [startHz, endHz] = [5000, 5500];
    const margin = 300; // Hz around each harmonic's band: window leakage and the 10 ms fades
    const allowed = (f: number) => {
      for (let k = 1; k * startHz < 0.95 * (RATE / 2); k++) {
        if (f >= k * startHz - margin && f <= k * endHz + margin) return true;
      }
      return false;
    };
    const audio = sweep({ waveform: "sawtooth", mode: "linear", startHz, endHz, seconds: 1 });
    const power = powerSpectrum(audio.channels[0]!, 4096);
    const total = power.reduce((sum, p) => sum + p, 0);
    const worst = worstForbiddenDb(power, total, allowed);
    assert.ok(worst < -80, `band-limited sweep: worst bin ${worst.toFixed(1)} dB`);
    const naivePower = powerSpectrum(naiveSaw(startHz, endHz, RATE), 4096);
    const naiveWorst = worstForbiddenDb(
      naivePower,
      naivePower.reduce((sum, p) => sum + p, 0),
      allowed,
    );
    assert.ok(
      naiveWorst > -50,
      `the check must catch aliasing: naive sweep's worst bin ${naiveWorst.toFixed(1)} dB`,
    );
  });

  test("fast additive kernel agrees with the one-sin-per-harmonic reference", () => {
    const frames = 2000;
    const phase = new Float64Array(frames);
    const hz = new Float64Array(frames);
    sweepPhase(phase, hz, 300, 20000, "exponential", RATE); // crosses the taper band for many harmonics
    for (const waveform of ["triangle", "square", "sawtooth"] as const) {
      const fast = new Float64Array(frames);
      const slow = new Float64Array(frames);
      addBandLimited(fast, phase, hz, waveform, RATE, 0.7);
      addBandLimitedReference(slow, phase, hz, waveform, RATE, 0.7);
      const worst = fast.reduce((m, x, i) => Math.max(m, Math.abs(x - slow[i]!)), 0);
      assert.ok(worst < 1e-9, `${waveform}: max difference ${worst}`);
    }
  });

  test("stereo: identical copies channel 0; independent sweeps the other way (uncorrelated)", () => {
    const mono = sweep({ seconds: 1 });
    const same = sweep({ seconds: 1, channels: 2 });
    assert.deepEqual(same.channels[0], mono.channels[0]);
    assert.deepEqual(same.channels[1], mono.channels[0]);
    const independent = sweep({ seconds: 1, channels: 2, stereo: "independent", waveform: "sawtooth" });
    assert.deepEqual(independent.channels[0], sweep({ seconds: 1, waveform: "sawtooth" }).channels[0]);
    assert.ok(Math.abs(correlation(independent.channels[0]!, independent.channels[1]!)) < 0.05);
    // channel 2 is the reversed-direction sweep: 20 kHz at its start
    const down = sweep({ seconds: 1, waveform: "sawtooth", startHz: 20000, endHz: 20 });
    assert.deepEqual(independent.channels[1], down.channels[0]);
  });

  test("invalid options throw OptionError naming the field", () => {
    assert.throws(
      () => sweep({ startHz: 30000 }),
      (e: unknown) => e instanceof OptionError && /startHz/.test(e.message),
    );
    assert.throws(
      () => sweep({ endHz: 24000, sampleRate: 48000 }),
      /endHz: expected a frequency below Nyquist/,
    );
    assert.throws(
      () => sweep({ seconds: -1 }),
      (e: unknown) => e instanceof OptionError && /seconds/.test(e.message),
    );
    assert.throws(() => sweep({ waveform: "saw" as "sawtooth" }), /waveform/);
    assert.throws(() => sweep({ startHertz: 5 } as never), /unknown option "startHertz" \(valid: .*startHz/);
    assert.throws(() => sweep({ channels: 3 }), /channels/);
    assert.throws(() => sweep({ seconds: 1e-6 }), /seconds: expected at least one sample/);
  });
});
