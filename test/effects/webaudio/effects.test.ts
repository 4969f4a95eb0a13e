import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OptionError } from "../../../src/core/errors.ts";
import { biquadCoefficients, biquadFilter, biquadMagnitudeDb } from "../../../src/dsp/biquad.ts";
import { parseChain, renderChain, resolveChain } from "../../../src/effects/chain.ts";
import { DEFAULT_GRAPH } from "../../../src/effects/webaudio/effects.ts";
import {
  CURVE_LENGTH,
  normalizationScale,
  shape,
  synthesizeImpulse,
} from "../../../src/effects/webaudio/graph.ts";
import {
  convolve,
  db,
  effects,
  errorOf,
  harmonics,
  impulse,
  material,
  maxAbsDifference,
  noise,
  RATES,
  render,
  renderMono,
  rmsOf,
  sine,
  toneAmplitude,
} from "./helpers.ts";

const NAMES = [
  "webaudio.biquad",
  "webaudio.waveshaper",
  "webaudio.compressor",
  "webaudio.convolver",
  "webaudio.delay",
  "webaudio.graph",
];

describe("webaudio effects: the shared contract", () => {
  test("the list holds each effect once, engine webaudio, every parameter described, defaults parse", () => {
    assert.deepEqual(
      effects.map((e) => e.name),
      NAMES,
    );
    for (const effect of effects) {
      assert.equal(effect.engine, "webaudio");
      assert.ok(effect.description.length > 10, effect.name);
      for (const [field, schema] of Object.entries(effect.schema.shape)) {
        assert.ok(
          (schema as { description?: string }).description,
          `${effect.name}.${field} has no description`,
        );
      }
      resolveChain(parseChain(effect.name), effects);
    }
  });

  test("unknown and out-of-range parameters are OptionErrors listing the valid ones", async () => {
    const unknown = await errorOf(() => resolveChain(parseChain("webaudio.delay(timeMs=3)"), effects));
    assert.ok(unknown instanceof OptionError);
    assert.match(unknown.message, /unknown option "timeMs" \(valid: delaySeconds, feedback, mix\)/);
    const range = await errorOf(() => resolveChain(parseChain("webaudio.delay(feedback=1.5)"), effects));
    assert.match(range.message, /feedback/);
  });

  for (const name of NAMES) {
    test(`${name}: deterministic, keeps rate, channels and length at 44.1, 48 and 96 kHz`, async () => {
      for (const sampleRate of RATES) {
        const channels = material(sampleRate, 2);
        const first = await render(name, {}, { sampleRate, channels });
        const second = await render(name, {}, { sampleRate, channels });
        assert.deepEqual(first.audio.channels, second.audio.channels, `${name} at ${sampleRate} Hz`);
        assert.equal(first.latencySamples, second.latencySamples);
        assert.equal(first.audio.sampleRate, sampleRate);
        assert.equal(first.audio.channels.length, 2);
        for (const [c, out] of first.audio.channels.entries()) {
          assert.equal(out.length, channels[c]!.length);
          assert.ok(out.every(Number.isFinite), `${name}: finite output`);
          assert.ok(maxAbsDifference(out, channels[c]!) > 1e-3, `${name} changes the signal`);
        }
        assert.ok(Number.isInteger(first.latencySamples) && first.latencySamples >= 0);
      }
    });
  }
});

describe("webaudio.biquad", () => {
  test("low-pass: -3 dB at the cutoff, about -12 dB an octave above, as the RBJ formulas say", async () => {
    for (const sampleRate of RATES) {
      const frames = Math.round(0.5 * sampleRate);
      const coefficients = biquadCoefficients({
        type: "lowpass",
        frequencyHz: 1000,
        sampleRate,
        q: Math.SQRT1_2,
      });
      for (const hz of [250, 1000, 2000, 4000]) {
        const out = await renderMono(
          "webaudio.biquad",
          { type: "lowpass", frequencyHz: 1000 },
          sine(hz, frames, sampleRate),
          sampleRate,
        );
        const gainDb = db(toneAmplitude(out, hz, sampleRate, frames / 2) / 0.5);
        assert.ok(
          Math.abs(gainDb - biquadMagnitudeDb(coefficients, hz, sampleRate)) < 0.01,
          `${hz} Hz at ${sampleRate}`,
        );
        if (hz === 1000) assert.ok(Math.abs(gainDb + 3.01) < 0.02, `cutoff: ${gainDb} dB`);
        if (hz === 2000) assert.ok(gainDb < -12 && gainDb > -13, `an octave above: ${gainDb} dB`);
      }
    }
  });

  test("samples match a float64 RBJ biquad; q is linear for every type (q = 4 peaks +12 dB)", async () => {
    const sampleRate = 48000;
    const x = noise(sampleRate / 4, 7, 0.2);
    for (const [type, q, gainDb] of [
      ["lowpass", 4, 0],
      ["highpass", 0.5, 0],
      ["bandpass", 2, 0],
      ["notch", 1, 0],
      ["peaking", 1.5, 9],
    ] as const) {
      const out = await renderMono("webaudio.biquad", { type, frequencyHz: 1200, q, gainDb }, x, sampleRate);
      const reference = biquadFilter(
        x,
        biquadCoefficients({ type, frequencyHz: 1200, sampleRate, q, gainDb }),
      );
      assert.ok(maxAbsDifference(out, reference) < 1e-5, `${type}: ${maxAbsDifference(out, reference)}`);
    }
    const frames = sampleRate / 2;
    const peak = await renderMono(
      "webaudio.biquad",
      { type: "lowpass", frequencyHz: 1000, q: 4 },
      sine(1000, frames, sampleRate),
      sampleRate,
    );
    assert.ok(
      Math.abs(db(toneAmplitude(peak, 1000, sampleRate, frames / 2) / 0.5) - 20 * Math.log10(4)) < 0.05,
    );
  });

  test("a frequency at or above Nyquist is an OptionError naming the field", async () => {
    const error = await errorOf(() =>
      renderMono("webaudio.biquad", { frequencyHz: 30000 }, new Float32Array(100), 48000),
    );
    assert.ok(error instanceof OptionError);
    assert.match(error.message, /frequencyHz: must be below Nyquist \(24000 Hz at 48000 Hz\), got 30000/);
  });
});

describe("webaudio.waveshaper", () => {
  test("without oversampling the output is curve(drive x), inputs beyond +-1 clipping at curve(+-drive)", async () => {
    const sampleRate = 48000;
    const x = Float32Array.from({ length: 4000 }, (_, n) => 1.2 * Math.sin(n / 50) * (n / 4000));
    for (const curve of ["tanh", "hardclip", "softclip"] as const) {
      const out = await renderMono(
        "webaudio.waveshaper",
        { curve, driveDb: 12, oversample: "none" },
        x,
        sampleRate,
      );
      const drive = 10 ** (12 / 20);
      const expected = x.map((v) => shape(curve, drive * Math.max(-1, Math.min(1, v))));
      // Linear interpolation between curve points (graph.ts CURVE_LENGTH): 1e-8 for the smooth curves,
      // drive * h / 4 = 3e-5 at the hard clip's corner.
      const tolerance = curve === "hardclip" ? (drive * (2 / (CURVE_LENGTH - 1))) / 4 + 1e-7 : 1e-6;
      assert.ok(maxAbsDifference(out, expected) < tolerance, `${curve}: ${maxAbsDifference(out, expected)}`);
    }
  });

  test("on a sine: odd harmonics, no even ones; 4x oversampling cuts the aliasing by more than 40 dB", async () => {
    // 5 kHz at 48 kHz on FFT bin 1707 of 16384: the 5th harmonic and up fold back below Nyquist.
    const sampleRate = 48000;
    const [fftSize, bin, skip] = [16384, 1707, 4096];
    const x = Float32Array.from(
      { length: fftSize + skip },
      (_, n) => 0.5 * Math.sin((2 * Math.PI * bin * n) / fftSize),
    );
    const alias: Record<string, number> = {};
    for (const oversample of ["none", "2x", "4x"] as const) {
      const out = await renderMono(
        "webaudio.waveshaper",
        { curve: "tanh", driveDb: 20, oversample },
        x,
        sampleRate,
      );
      const { amplitudes, aliasDb } = harmonics(out, bin, fftSize, skip);
      assert.ok(amplitudes[0]! > 1, "a driven tanh squares the sine: fundamental 4/pi");
      assert.ok(db(amplitudes[2]! / amplitudes[0]!) > -12, "strong third harmonic");
      assert.ok(db(amplitudes[1]! / amplitudes[0]!) < -100, "no second harmonic: the curve is odd");
      alias[oversample] = aliasDb;
    }
    assert.ok(alias["none"]! > -25, `aliasing without oversampling ${alias["none"]} dB`);
    assert.ok(alias["2x"]! < alias["none"]! - 20, `2x: ${alias["2x"]} dB`);
    assert.ok(alias["4x"]! < alias["none"]! - 40, `4x: ${alias["4x"]} dB`);
  });

  test("oversampling latency is reported: shifted back by it, the output matches the plain curve in band", async () => {
    const sampleRate = 48000;
    const frames = 8192;
    const x = Float32Array.from({ length: frames }, (_, n) =>
      [220, 347, 1013].reduce((sum, hz) => sum + 0.2 * Math.sin((2 * Math.PI * hz * n) / sampleRate), 0),
    );
    const plain = await render(
      "webaudio.waveshaper",
      { driveDb: 3, oversample: "none" },
      { sampleRate, channels: [x] },
    );
    assert.equal(plain.latencySamples, 0);
    for (const oversample of ["2x", "4x"] as const) {
      const result = await render(
        "webaudio.waveshaper",
        { driveDb: 3, oversample },
        { sampleRate, channels: [x] },
      );
      const out = result.audio.channels[0]!;
      const error = (lag: number) => {
        let sum = 0;
        for (let n = 1024; n < frames - 1024; n++) sum += (out[n + lag]! - plain.audio.channels[0]![n]!) ** 2;
        return sum;
      };
      let best = 0;
      for (let lag = 0; lag < 400; lag++) if (error(lag) < error(best)) best = lag;
      assert.equal(
        best,
        result.latencySamples,
        `${oversample}: best lag ${best}, reported ${result.latencySamples}`,
      );
      assert.ok(Math.sqrt(error(best) / (frames - 2048)) < 1e-3, `${oversample}: in-band match`);
    }
  });
});

describe("webaudio.compressor", () => {
  const hardKnee = { thresholdDb: -30, kneeDb: 0, ratio: 4 };
  /** Steady output level for a DC input at levelDb: threshold + excess / ratio, plus Web Audio's makeup gain. */
  const expectedDb = (levelDb: number) =>
    (levelDb < -30 ? levelDb : -30 + (levelDb + 30) / 4) + 0.6 * 30 * (1 - 1 / 4); // makeup: (-T (1 - 1/R))^0.6

  test("static gain: 1:ratio above the threshold, plus makeup gain (-0.6 T (1 - 1/R) dB)", async () => {
    for (const sampleRate of RATES) {
      const frames = sampleRate / 2;
      for (const levelDb of [-50, -30, -20, -10, -3]) {
        const dc = new Float32Array(frames).fill(10 ** (levelDb / 20));
        const out = await renderMono("webaudio.compressor", hardKnee, dc, sampleRate);
        const outDb = db(rmsOf(out, frames - 2000, frames));
        assert.ok(
          Math.abs(outDb - expectedDb(levelDb)) < 0.02,
          `${levelDb} dB in at ${sampleRate}: ${outDb} dB out`,
        );
      }
    }
  });

  test("stereo is linked: a quiet channel gets the loud one's gain reduction", async () => {
    const sampleRate = 48000;
    const frames = sampleRate / 2;
    const loud = new Float32Array(frames).fill(0.5);
    const quiet = new Float32Array(frames).fill(0.01);
    const { audio } = await render("webaudio.compressor", hardKnee, { sampleRate, channels: [loud, quiet] });
    const gain0 = audio.channels[0]![frames - 1]! / 0.5;
    const gain1 = audio.channels[1]![frames - 1]! / 0.01;
    assert.ok(Math.abs(db(gain1 / gain0)) < 0.01, `gains ${db(gain0)} / ${db(gain1)} dB`);
    assert.ok(Math.abs(db(gain0) - (expectedDb(db(0.5)) - db(0.5))) < 0.02);
  });

  test("the 6 ms look-ahead is the reported latency; more than two channels are refused", async () => {
    for (const sampleRate of RATES) {
      const result = await render(
        "webaudio.compressor",
        {},
        { sampleRate, channels: [impulse(4096, 1000, 1e-3)] },
      );
      const first = result.audio.channels[0]!.findIndex((v) => v !== 0);
      assert.equal(first - 1000, result.latencySamples, `at ${sampleRate} Hz`);
      assert.ok(
        result.latencySamples >= 0.006 * sampleRate - 1 && result.latencySamples < 0.006 * sampleRate + 128,
      );
    }
    const three = [new Float32Array(256), new Float32Array(256), new Float32Array(256)];
    const error = await errorOf(() =>
      render("webaudio.compressor", {}, { sampleRate: 48000, channels: three }),
    );
    assert.ok(error instanceof OptionError);
    assert.match(error.message, /mono or stereo.*got 3 channels/);
  });
});

describe("webaudio.convolver", () => {
  const room = { impulseSeconds: 0.2, rt60Seconds: 0.3, predelaySeconds: 0.01, dampingHz: 6000, seed: 4 };

  test("the wet signal equals a direct convolution with the synthesised response (within 1e-5)", async () => {
    for (const sampleRate of RATES) {
      const x = noise(Math.round(0.3 * sampleRate), 3, 0.2);
      const h = synthesizeImpulse(room, sampleRate);
      const expected = convolve(x, h);
      const wet = await renderMono("webaudio.convolver", { ...room, mix: 1 }, x, sampleRate);
      assert.ok(
        maxAbsDifference(wet, expected) < 1e-5,
        `at ${sampleRate}: ${maxAbsDifference(wet, expected)}`,
      );
      const normalized = await renderMono(
        "webaudio.convolver",
        { ...room, mix: 1, normalize: true },
        x,
        sampleRate,
      );
      const scale = normalizationScale(h, sampleRate);
      assert.ok(
        maxAbsDifference(
          normalized,
          expected.map((v) => v * scale),
        ) <
          1e-5 * scale,
      );
      const mixed = await renderMono("webaudio.convolver", { ...room, mix: 0.3 }, x, sampleRate);
      assert.ok(
        maxAbsDifference(
          mixed,
          x.map((v, n) => 0.7 * v + 0.3 * expected[n]!),
        ) < 1e-5,
      );
    }
  });

  test("an impulse gives the response: silent through the predelay, then decaying 60 dB per rt60", async () => {
    const sampleRate = 48000;
    const options = { impulseSeconds: 1, rt60Seconds: 0.5, predelaySeconds: 0.02, dampingHz: 0, seed: 9 };
    const out = await renderMono(
      "webaudio.convolver",
      { ...options, mix: 1 },
      impulse(sampleRate),
      sampleRate,
    );
    assert.ok(maxAbsDifference(out, synthesizeImpulse(options, sampleRate)) < 1e-6);
    assert.ok(rmsOf(out, 0, 0.02 * sampleRate) < 1e-6, "silent before the predelay");
    const window = sampleRate / 10;
    const levels = Array.from({ length: 8 }, (_, k) =>
      db(rmsOf(out, 0.1 * sampleRate + k * window, 0.1 * sampleRate + (k + 1) * window)),
    );
    for (let k = 1; k < levels.length; k++)
      assert.ok(levels[k]! < levels[k - 1]!, `decays: ${levels.join(", ")}`);
    const slopeDbPerSecond = (levels[7]! - levels[0]!) / 0.7;
    assert.ok(
      Math.abs(slopeDbPerSecond / (-60 / 0.5) - 1) < 0.15,
      `decay ${slopeDbPerSecond} dB/s, expected -120`,
    );
  });

  test("each channel is convolved on its own; the seed changes the room", async () => {
    const sampleRate = 44100;
    const [left, right] = material(sampleRate, 2, 0.2);
    const { audio } = await render(
      "webaudio.convolver",
      { ...room, mix: 1 },
      { sampleRate, channels: [left!, right!] },
    );
    const h = synthesizeImpulse(room, sampleRate);
    assert.ok(maxAbsDifference(audio.channels[0]!, convolve(left!, h)) < 1e-5);
    assert.ok(maxAbsDifference(audio.channels[1]!, convolve(right!, h)) < 1e-5);
    const other = await renderMono("webaudio.convolver", { ...room, seed: 5, mix: 1 }, left!, sampleRate);
    assert.ok(maxAbsDifference(other, audio.channels[0]!) > 1e-2);
  });
});

describe("webaudio.delay", () => {
  test("an impulse gives (1 - mix) now, then echoes every delay at mix * feedback^(k-1)", async () => {
    for (const sampleRate of RATES) {
      const frames = sampleRate;
      const at = 100;
      const step = 0.05 * sampleRate;
      for (const feedback of [0.6, -0.5, 0]) {
        const out = await renderMono(
          "webaudio.delay",
          { delaySeconds: 0.05, feedback, mix: 0.4 },
          impulse(frames, at),
          sampleRate,
        );
        const expected = new Float64Array(frames);
        expected[at] = 0.6;
        for (let k = 1; at + k * step < frames; k++) expected[at + k * step] = 0.4 * feedback ** (k - 1);
        // delayTime is float32: node-web-audio-api lands a fraction (<1e-4) of each echo on the next sample.
        assert.ok(
          maxAbsDifference(out, expected) < 1e-4,
          `feedback ${feedback} at ${sampleRate}: ${maxAbsDifference(out, expected)}`,
        );
      }
    }
  });

  test("no one-render-quantum minimum: a 1 ms echo (48 frames) with feedback comes every 48 frames", async () => {
    const sampleRate = 48000;
    const out = await renderMono(
      "webaudio.delay",
      { delaySeconds: 0.001, feedback: 0.99, mix: 1 },
      impulse(sampleRate),
      sampleRate,
    );
    for (const k of [1, 2, 3, 100, 900]) {
      assert.ok(Math.abs(out[48 * k]! - 0.99 ** (k - 1)) < 1e-3, `echo ${k}: ${out[48 * k]}`);
      assert.ok(Math.abs(out[48 * k - 20]!) < 1e-6);
    }
  });
});

describe("webaudio.graph", () => {
  test("a graph renders like its nodes as a chain of single-node effects, latencies added", async () => {
    const sampleRate = 48000;
    const channels = material(sampleRate, 1, 0.3);
    const graph = await render("webaudio.graph", {}, { sampleRate, channels });
    const chain = DEFAULT_GRAPH.nodes.map(({ kind, ...parameters }) =>
      kind === "gain"
        ? {
            effect: "webaudio.graph",
            parameters: { graph: JSON.stringify({ nodes: [{ kind, ...parameters }] }) },
          }
        : { effect: `webaudio.${kind}`, parameters },
    );
    const steps = await renderChain({ sampleRate, channels }, resolveChain(chain, effects));
    assert.deepEqual(graph.audio.channels, steps.audio.channels);
    assert.equal(graph.latencySamples, steps.latencySamples);
    assert.ok(graph.latencySamples > 0, "the default graph's 4x waveshaper has latency");
  });

  test("takes JSON in a chain string; omitted fields take defaults; an empty graph passes audio through", async () => {
    const text = `webaudio.graph(graph='{"nodes": [{"kind": "gain", "gainDb": -6}, {"kind": "biquad"}]}')`;
    const chain = parseChain(text);
    const x = material(48000, 1, 0.1)[0]!;
    const [step] = resolveChain(chain, effects);
    const { audio } = await renderChain({ sampleRate: 48000, channels: [x] }, [step!]);
    const expected = biquadFilter(
      x.map((v) => v * 10 ** (-6 / 20)),
      biquadCoefficients({ type: "lowpass", frequencyHz: 1000, sampleRate: 48000, q: Math.SQRT1_2 }),
    );
    assert.ok(maxAbsDifference(audio.channels[0]!, expected) < 1e-5);
    const through = await renderMono("webaudio.graph", { graph: '{"nodes": []}' }, x, 48000);
    assert.deepEqual(through, x);
  });

  test("bad graphs are OptionErrors naming the node and field", async () => {
    for (const [graph, message] of [
      ["{not json", /not valid JSON/],
      ['{"nodes": [{"kind": "flanger"}]}', /nodes\.0\.kind/],
      ['{"nodes": [{"kind": "gain"}, {"kind": "waveshaper", "driveDb": 99}]}', /nodes\.1\.driveDb/],
      ['{"nodes": [{"kind": "delay", "time": 1}]}', /time/],
      ['{"nodes": {}}', /nodes/],
    ] as const) {
      const error = await errorOf(() =>
        resolveChain([{ effect: "webaudio.graph", parameters: { graph } }], effects),
      );
      assert.ok(error instanceof OptionError, graph);
      assert.match(error.message, message);
    }
  });
});
