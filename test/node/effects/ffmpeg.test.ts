import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeAudio } from "../../../src/audio/audio.ts";
import { OptionError } from "../../../src/core/errors.ts";
import { biquadCoefficients, biquadFilter } from "../../../src/dsp/biquad.ts";
import { ffmpegTelephone, type TelephoneCodec, telephoneCodecs } from "../../../src/node/effects/ffmpeg.ts";
import {
  assertSameAudio,
  assertShapeOf,
  correlationLag,
  db,
  mono,
  noise,
  RATES,
  render,
  rmsOf,
  sine,
  toneAmplitude,
} from "./helpers.ts";

/**
 * ffmpeg.telephone against the real ffmpeg (Debian `ffmpeg`). Skipped with the install line when ffmpeg is
 * missing (CI installs it).
 */

const reason = await ffmpegTelephone.unavailableReason!();
const skip = reason === undefined ? false : `ffmpeg.telephone: ${reason}`;

/**
 * Speech-like test signal: a voiced source gliding 120 -> 180 Hz (harmonics up to 7 kHz, shaped by formant
 * bumps at 500, 1500 and 2500 Hz) in 4 Hz syllables, plus quiet noise. Peak about `level`.
 */
function speechLike(sampleRate: number, seconds: number, level = 0.25): Float32Array {
  const frames = Math.round(seconds * sampleRate);
  const hiss = noise(frames, 17, 0.01);
  const x = new Float32Array(frames);
  let phase = 0;
  const formant = (hz: number) =>
    [500, 1500, 2500].reduce((sum, centre) => sum + Math.exp(-(((hz - centre) / 300) ** 2)), 0.15);
  for (let n = 0; n < frames; n++) {
    const t = n / sampleRate;
    const f0 = 120 + 60 * (t / seconds);
    phase += f0 / sampleRate;
    let voiced = 0;
    for (let k = 1; k * f0 < Math.min(7000, sampleRate / 2); k++) {
      voiced += (formant(k * f0) / k ** 0.5) * Math.sin(2 * Math.PI * k * phase);
    }
    const syllable = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
    x[n] = 0.08 * voiced * syllable + hiss[n]!;
  }
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  return x.map((v) => (v * level) / peak);
}

/** Power of `x` between `lowHz` and `highHz` (Hann-windowed DFT over the whole signal, summed bins). */
function bandPower(x: Float32Array, sampleRate: number, lowHz: number, highHz: number): number {
  // Coarse but adequate: sum of tone amplitudes^2 on a 25 Hz grid over the middle of the clip.
  const start = Math.round(0.1 * sampleRate);
  const frames = Math.round(0.4 * sampleRate);
  let power = 0;
  for (let hz = lowHz; hz <= highHz; hz += 25) power += toneAmplitude(x, sampleRate, hz, start, frames) ** 2;
  return power;
}

/** SNR of `y` against the reference `reference`, in dB (after the first 50 ms, where filters settle). */
function snrDb(reference: Float32Array, y: Float32Array, sampleRate: number): number {
  let signal = 0;
  let error = 0;
  for (let n = Math.round(0.05 * sampleRate); n < reference.length; n++) {
    signal += reference[n]! ** 2;
    error += (y[n]! - reference[n]!) ** 2;
  }
  return 10 * Math.log10(signal / error);
}

async function phone(
  x: Float32Array,
  sampleRate: number,
  codec: TelephoneCodec,
  bitrateKbps = 0,
): Promise<Float32Array> {
  return (await render(ffmpegTelephone, mono(sampleRate, x), { codec, bitrateKbps })).audio.channels[0]!;
}

describe("ffmpeg.telephone", { skip }, () => {
  test("every codec renders bit-identically twice, with the input's shape and no latency", async () => {
    const input = mono(48000, speechLike(48000, 0.5));
    for (const codec of telephoneCodecs) {
      const first = await render(ffmpegTelephone, input, { codec });
      const second = await render(ffmpegTelephone, input, { codec });
      assertShapeOf(first.audio, input, codec);
      assertSameAudio(first.audio, second.audio, `${codec} rendered twice`);
      assert.equal(first.latencySamples, 0);
      assert.ok(rmsOf(first.audio.channels[0]!) > 0.01, `${codec}: not silent`);
    }
  });

  test("the line passes 1 kHz, is -3 dB at 300 and 3400 Hz and removes 100 Hz and 5 kHz, at 44.1, 48 and 96 kHz", async () => {
    for (const rate of RATES) {
      // One clip with every probe tone; the gains are read off by projection (the line is linear for "none").
      const tones = [100, 300, 1000, 3400, 5000];
      const x = new Float32Array(Math.round(0.5 * rate));
      for (const hz of tones) {
        const tone = sine(rate, hz, 0.5, 0.1);
        for (let n = 0; n < x.length; n++) x[n]! += tone[n]!;
      }
      const start = Math.round(0.15 * rate);
      const frames = Math.round(0.3 * rate);
      for (const codec of ["none", "mulaw"] as const) {
        const y = await phone(x, rate, codec);
        const gain = (hz: number) =>
          db(toneAmplitude(y, rate, hz, start, frames) / toneAmplitude(x, rate, hz, start, frames));
        const [low, edgeLow, mid, edgeHigh, high] = tones.map(gain) as [
          number,
          number,
          number,
          number,
          number,
        ];
        assert.ok(Math.abs(mid) < 0.5, `${rate} Hz ${codec}: 1 kHz passes (${mid.toFixed(2)} dB)`);
        assert.ok(low < -30, `${rate} Hz ${codec}: 100 Hz removed (${low.toFixed(1)} dB)`);
        assert.ok(high < -40, `${rate} Hz ${codec}: 5 kHz removed (${high.toFixed(1)} dB)`);
        if (codec === "none") {
          assert.ok(Math.abs(edgeLow + 3) < 0.6, `${rate} Hz: -3 dB at 300 Hz (${edgeLow.toFixed(2)})`);
          assert.ok(Math.abs(edgeHigh + 3) < 0.6, `${rate} Hz: -3 dB at 3400 Hz (${edgeHigh.toFixed(2)})`);
        }
      }
    }
  });

  test("G.711 mu-law and A-law quantise with ~38 dB SNR that holds up at low levels (log companding)", async () => {
    const rate = 48000;
    for (const level of [0.5, 0.02]) {
      const x = speechLike(rate, 0.5, level);
      const reference = await phone(x, rate, "none");
      for (const codec of ["mulaw", "alaw"] as const) {
        const snr = snrDb(reference, await phone(x, rate, codec), rate);
        // A uniform 8-bit quantiser would give under 10 dB at the low level (-34 dBFS peak, about -46 dBFS RMS).
        const expected = level === 0.5 ? [34, 42] : [24, 40];
        assert.ok(
          snr > expected[0]! && snr < expected[1]!,
          `${codec} at peak ${level}: SNR ${snr.toFixed(1)} dB, expected ${expected[0]}..${expected[1]}`,
        );
      }
    }
  });

  test("G.726 gets more accurate with every bit rate step", async () => {
    const rate = 48000;
    const x = speechLike(rate, 0.5);
    const reference = await phone(x, rate, "none");
    const snrs: number[] = [];
    for (const kbps of [16, 24, 32, 40])
      snrs.push(snrDb(reference, await phone(x, rate, "g726", kbps), rate));
    for (let i = 1; i < snrs.length; i++) {
      assert.ok(snrs[i]! > snrs[i - 1]! + 1, `SNR per rate ${snrs.map((s) => s.toFixed(1))} dB rises`);
    }
    assert.ok(snrs[0]! > 3 && snrs[3]! < 35, `SNRs ${snrs.map((s) => s.toFixed(1))} dB are those of ADPCM`);
  });

  test("GSM and Opus change the waveform but keep the speech band's energy", async () => {
    const rate = 48000;
    const x = speechLike(rate, 0.5);
    const reference = await phone(x, rate, "none");
    const band = bandPower(reference, rate, 300, 3400);
    for (const [codec, kbps] of [
      ["gsm", 0],
      ["opus", 8],
      ["opus", 16],
    ] as const) {
      const y = await phone(x, rate, codec, kbps);
      const snr = snrDb(reference, y, rate);
      assert.ok(
        snr < 15,
        `${codec} ${kbps}: a perceptual codec changes the waveform (SNR ${snr.toFixed(1)} dB)`,
      );
      const kept = 10 * Math.log10(bandPower(y, rate, 300, 3400) / band);
      assert.ok(
        Math.abs(kept) < 3,
        `${codec} ${kbps}: speech-band energy kept within 3 dB (${kept.toFixed(2)} dB)`,
      );
      const above = 10 * Math.log10(bandPower(y, rate, 4200, 8000) / band);
      assert.ok(above < -40, `${codec} ${kbps}: nothing above 4 kHz (${above.toFixed(1)} dB)`);
    }
  });

  test("the reported latency (0) is right: the output lines up with the input band-passed here and the uncoded line", async () => {
    for (const rate of RATES) {
      const x = noise(Math.round(0.5 * rate), 23, 0.1);
      // The same 4th-order Butterworth band-pass, computed here (RBJ biquads, as ffmpeg's highpass/lowpass).
      let bandPassed = x;
      for (const [type, hz] of [
        ["highpass", 300],
        ["lowpass", 3400],
      ] as const) {
        for (const q of [0.5412, 1.3066]) {
          bandPassed = biquadFilter(
            bandPassed,
            biquadCoefficients({ type, frequencyHz: hz, sampleRate: rate, q }),
          );
        }
      }
      const reference = await phone(x, rate, "none");
      const againstInput = correlationLag(bandPassed, reference, Math.round(0.002 * rate));
      assert.ok(
        Math.abs(againstInput) < 0.25,
        `${rate} Hz: uncoded line vs band-passed input: lag ${againstInput.toFixed(2)}`,
      );
      // Within 0.3 of a sample at 8 kHz (the codecs' rate): Opus without its 1-sample (8 kHz) correction fails.
      const tolerance = (0.3 * rate) / 8000;
      for (const [codec, kbps] of [
        ["mulaw", 0],
        ["alaw", 0],
        ["gsm", 0],
        ["g726", 32],
        ["opus", 12],
      ] as const) {
        const { audio, latencySamples } = await render(ffmpegTelephone, mono(rate, x), {
          codec,
          bitrateKbps: kbps,
        });
        const lag = correlationLag(reference, audio.channels[0]!, Math.round(0.002 * rate));
        assert.ok(
          Math.abs(lag - latencySamples) < tolerance,
          `${rate} Hz ${codec}: output lags the uncoded line by ${lag.toFixed(2)} samples, reported ${latencySamples}`,
        );
      }
    }
  });

  test("channels go through the line independently", async () => {
    const rate = 44100;
    const left = speechLike(rate, 0.3);
    const { audio } = await render(ffmpegTelephone, makeAudio(rate, [left, new Float32Array(left.length)]), {
      codec: "gsm",
    });
    assertSameAudio(
      makeAudio(rate, [audio.channels[0]!]),
      mono(rate, await phone(left, rate, "gsm")),
      "left",
    );
    // GSM's decoder idles at about -66 dBFS on digital silence; nothing of the left channel leaks in.
    assert.ok(rmsOf(audio.channels[1]!) < 1e-3, "silent right stays (nearly) silent");
  });

  test("bit rates a codec does not have and an empty band are OptionErrors", async () => {
    const input = mono(48000, sine(48000, 440, 0.1));
    await assert.rejects(
      render(ffmpegTelephone, input, { codec: "g726", bitrateKbps: 20 }),
      /16, 24, 32 or 40/,
    );
    await assert.rejects(render(ffmpegTelephone, input, { codec: "mulaw", bitrateKbps: 32 }), /fixed at 64/);
    await assert.rejects(render(ffmpegTelephone, input, { codec: "opus", bitrateKbps: 4 }), OptionError);
    await assert.rejects(
      render(ffmpegTelephone, input, { lowCutHz: 1000, highCutHz: 1000 }),
      /below highCutHz/,
    );
    await assert.rejects(render(ffmpegTelephone, mono(4000, sine(4000, 440, 0.1))), /Nyquist/);
  });
});
