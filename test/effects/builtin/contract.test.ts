import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { OptionError } from "../../../src/core/errors.ts";
import { Rng } from "../../../src/core/rng.ts";
import { builtinEffects } from "../../../src/effects/builtin/index.ts";
import { parseChain, resolveChain } from "../../../src/effects/chain.ts";
import { errorMessage, RATES, render, sine } from "./helpers.ts";

/** Noise plus a tone, 0.15 s, different per channel. */
function material(sampleRate: number, channels: number, seconds = 0.15): Float32Array[] {
  const frames = Math.round(seconds * sampleRate);
  return Array.from({ length: channels }, (_, c) => {
    const rng = new Rng(c + 1);
    const tone = sine(220 * (c + 1), frames, sampleRate, 0.3);
    return tone.map((x) => x + 0.1 * rng.normal());
  });
}

const NAMES = [
  "lowpass",
  "highpass",
  "bandpass",
  "notch",
  "peaking",
  "lowshelf",
  "highshelf",
  "drive",
  "hardclip",
  "softclip",
  "diode",
  "fuzz",
  "bitcrusher",
  "compressor",
  "tremolo",
  "delay",
  "echo",
  "reverb",
  "room",
  "phone",
];

describe("builtin effects: the shared contract", () => {
  test("the registry holds every effect once, engine builtin, with a description", () => {
    assert.deepEqual(
      builtinEffects.map((e) => e.name),
      NAMES,
    );
    for (const effect of builtinEffects) {
      assert.equal(effect.engine, "builtin");
      assert.ok(effect.description.length > 10, effect.name);
    }
  });

  test("every parameter has a .describe() and every effect parses with all defaults", () => {
    for (const effect of builtinEffects) {
      for (const [field, schema] of Object.entries(effect.schema.shape)) {
        assert.ok(
          (schema as { description?: string }).description,
          `${effect.name}.${field} has no description`,
        );
      }
      const [step] = resolveChain(parseChain(effect.name), builtinEffects);
      assert.ok(step, effect.name);
    }
  });

  for (const effect of builtinEffects) {
    test(`${effect.name}: deterministic, same shape at 44.1/48/96 kHz, channels independent, finite`, async () => {
      for (const sampleRate of RATES) {
        const channels = material(sampleRate, 2);
        const first = await render(effect.name, {}, { sampleRate, channels });
        const second = await render(effect.name, {}, { sampleRate, channels });
        assert.equal(first.audio.sampleRate, sampleRate);
        assert.equal(first.audio.channels.length, 2);
        assert.equal(first.latencySamples, 0);
        first.audio.channels.forEach((channel, c) => {
          assert.equal(channel.length, channels[c]!.length, `${effect.name} at ${sampleRate}: length`);
          assert.deepEqual(
            channel,
            second.audio.channels[c],
            `${effect.name} at ${sampleRate}: bit-identical`,
          );
          assert.ok(
            channel.every((x) => Number.isFinite(x)),
            `${effect.name} at ${sampleRate}: finite`,
          );
        });
        assert.notDeepEqual(first.audio.channels[0], channels[0], `${effect.name} changes its input`);
        if (sampleRate === 48000) {
          const mono = await render(effect.name, {}, { sampleRate, channels: [channels[0]!] });
          assert.deepEqual(
            mono.audio.channels[0],
            first.audio.channels[0],
            `${effect.name}: channel 0 alone`,
          );
        }
      }
    });
  }

  test("zero- and one-frame inputs come back with their length", async () => {
    for (const effect of builtinEffects) {
      for (const frames of [0, 1]) {
        const out = await render(
          effect.name,
          {},
          { sampleRate: 48000, channels: [new Float32Array(frames)] },
        );
        assert.equal(out.audio.channels[0]!.length, frames, `${effect.name} with ${frames} frames`);
      }
    }
  });

  test("an unknown effect is an OptionError listing the known ones", () => {
    assert.throws(
      () => resolveChain(parseChain("lowpas(cutoffHz=100)"), builtinEffects),
      (error: unknown) =>
        error instanceof OptionError &&
        /unknown effect "lowpas"/.test(error.message) &&
        /lowpass, highpass/.test(error.message),
    );
  });

  test("an unknown parameter names it and lists the valid ones, for every effect", () => {
    for (const effect of builtinEffects) {
      const valid = Object.keys(effect.schema.shape).join(", ");
      assert.throws(
        () => resolveChain([{ effect: effect.name, parameters: { nonsense: 1 } }], builtinEffects),
        (error: unknown) =>
          error instanceof OptionError &&
          error.message.includes('unknown option "nonsense"') &&
          error.message.includes(`(valid: ${valid})`),
        effect.name,
      );
    }
  });

  test("a value of the wrong kind names the field, for every field of every effect", () => {
    for (const effect of builtinEffects) {
      for (const field of Object.keys(effect.schema.shape)) {
        assert.throws(
          () => resolveChain([{ effect: effect.name, parameters: { [field]: "???" } }], builtinEffects),
          (error: unknown) =>
            error instanceof OptionError && error.message.startsWith(`${effect.name} parameters: ${field}:`),
          `${effect.name}.${field}`,
        );
      }
    }
  });

  test("out-of-range values name the field and the bound", async () => {
    const cases: [string, string, RegExp][] = [
      ["lowpass(q=0)", "q", />=0.05/],
      ["lowpass(order=3)", "order", /2\|4\|6\|8/],
      ["drive(oversample=3)", "oversample", /1\|2\|4\|8/],
      ["bitcrusher(bits=0)", "bits", />=1/],
      ["bitcrusher(bits=8.5)", "bits", /int/],
      ["compressor(ratio=0.5)", "ratio", />=1/],
      ["tremolo(depth=2)", "depth", /<=1/],
      ["tremolo(shape=saw)", "shape", /"sine"\|"triangle"\|"square"/],
      ["delay(feedback=1)", "feedback", /<=0.95/],
      ["reverb(room=cathedral)", "room", /"small"\|"medium"\|"hall"/],
      ["room(rt60Seconds=0)", "rt60Seconds", />=0.05/],
      ["phone(codec=gsm)", "codec", /"mulaw"\|"alaw"\|"none"/],
      ["phone(lowHz=1000, highHz=900)", "lowHz", /below highHz/],
    ];
    for (const [chain, field, bound] of cases) {
      const message = await errorMessage(async () => resolveChain(parseChain(chain), builtinEffects));
      assert.match(message, new RegExp(`parameters: ${field}: `), chain);
      assert.match(message, bound, chain);
    }
  });

  test("frequencies at or above Nyquist fail at render time, naming the field, Nyquist and the value", async () => {
    const audio = { sampleRate: 44100, channels: [new Float32Array(100)] };
    const cases: [string, string][] = [
      ["lowpass(cutoffHz=30000)", "cutoffHz"],
      ["highpass(cutoffHz=22050)", "cutoffHz"],
      ["peaking(frequencyHz=25000)", "frequencyHz"],
      ["echo(dampingHz=40000)", "dampingHz"],
      ["room(dampingHz=23000)", "dampingHz"],
      ["tremolo(rateHz=900)", "rateHz"],
    ];
    for (const [chain, field] of cases) {
      const [step] = parseChain(chain);
      const rate = chain.startsWith("tremolo") ? 1000 : audio.sampleRate;
      const message = await errorMessage(() =>
        render(step!.effect, step!.parameters, { ...audio, sampleRate: rate }),
      );
      assert.match(
        message,
        new RegExp(
          `^${step!.effect} parameters: ${field}: must be below Nyquist \\(${rate / 2} Hz at ${rate} Hz\\), got \\d+$`,
        ),
        chain,
      );
    }
    await assert.doesNotReject(render("lowpass", { cutoffHz: 30000 }, { ...audio, sampleRate: 96000 }));
  });

  test("no file under src/effects/builtin imports node:* (it runs in browsers)", () => {
    const folder = new URL("../../../src/effects/builtin/", import.meta.url);
    for (const file of readdirSync(folder)) {
      const source = readFileSync(new URL(file, folder), "utf8");
      assert.doesNotMatch(source, /from\s+["']node:/, file);
    }
  });
});
