import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import type { Audio } from "../../src/audio/audio.ts";
import { OptionError } from "../../src/core/errors.ts";
import {
  formatChain,
  parseChain,
  renderChain,
  resolveChain,
  resolvedChain,
} from "../../src/effects/chain.ts";
import { type AnyEffect, defineEffect } from "../../src/effects/effect.ts";

/** Two tiny effects to test the chain machinery without any real DSP. */
const gain = defineEffect({
  name: "gain",
  engine: "builtin",
  description: "multiply",
  schema: z.strictObject({ factor: z.number().min(0).max(10).default(2) }),
  render: async (audio: Audio, { factor }) => ({
    audio: { sampleRate: audio.sampleRate, channels: audio.channels.map((c) => c.map((v) => v * factor)) },
    latencySamples: 0,
  }),
});
const shift = defineEffect({
  name: "shift",
  engine: "builtin",
  description: "delay by whole samples, reported as latency",
  schema: z.strictObject({ samples: z.number().int().min(0).default(1), label: z.string().default("x") }),
  render: async (audio: Audio, { samples }) => ({
    audio: {
      sampleRate: audio.sampleRate,
      channels: audio.channels.map((c) => {
        const out = new Float32Array(c.length);
        out.set(c.subarray(0, c.length - samples), samples);
        return out;
      }),
    },
    latencySamples: samples,
  }),
});
const effects: AnyEffect[] = [gain, shift];

test("chain strings parse to steps and format back canonically", () => {
  const chain = parseChain("gain(factor=3) | shift( samples = 2 , label='a, b|c' ) | gain");
  assert.deepEqual(chain, [
    { effect: "gain", parameters: { factor: 3 } },
    { effect: "shift", parameters: { samples: 2, label: "a, b|c" } },
    { effect: "gain", parameters: {} },
  ]);
  assert.equal(formatChain(chain), "gain(factor=3) | shift(samples=2, label='a, b|c') | gain");
  for (const value of ['{"nodes":[{"kind":"gain"}]}', "it's", "true", "42", "plain", "two words"]) {
    const round = parseChain(formatChain([{ effect: "e", parameters: { value } }]));
    assert.deepEqual(round[0]!.parameters, { value }, value);
  }
  assert.deepEqual(parseChain("e(flag=true, n=-1.5e3)")[0]!.parameters, { flag: true, n: -1500 });
});

test("malformed chains and bad parameters are errors that say where", () => {
  assert.throws(() => parseChain("gain ||"), /empty step/);
  assert.throws(() => parseChain("gain(factor)"), /"factor" in gain is not key=value/);
  assert.throws(() => parseChain("gain(factor=1, factor=2)"), /gain sets factor twice/);
  assert.throws(() => parseChain("9lives"), /"9lives" is not name/);
  assert.throws(
    () => resolveChain(parseChain("gian(factor=1)"), effects),
    (error: unknown) =>
      error instanceof OptionError &&
      /unknown effect "gian" \(step 1\); known: gain, shift/.test(error.message),
  );
  assert.throws(
    () => resolveChain(parseChain("gain(factr=1)"), effects),
    /unknown option "factr" \(valid: factor\)/,
  );
  assert.throws(() => resolveChain(parseChain("gain(factor=11)"), effects), /factor: .*<=10.*got 11/);
});

test("rendering runs the steps in order, adds their latencies, and records completed parameters", async () => {
  const steps = resolveChain(parseChain("gain(factor=3) | shift(samples=2) | gain"), effects);
  assert.deepEqual(resolvedChain(steps), [
    { effect: "gain", parameters: { factor: 3 } },
    { effect: "shift", parameters: { samples: 2, label: "x" } },
    { effect: "gain", parameters: { factor: 2 } },
  ]);
  const audio = { sampleRate: 8000, channels: [Float32Array.from([1, 2, 3, 4])] };
  const result = await renderChain(audio, steps);
  assert.deepEqual(Array.from(result.audio.channels[0]!), [0, 0, 6, 12]);
  assert.equal(result.latencySamples, 2);
  const missing = defineEffect({
    ...gain,
    name: "ext",
    unavailableReason: async () => "ext is not installed (apt-get install -y ext)",
  } as never);
  await assert.rejects(
    renderChain(audio, resolveChain(parseChain("ext"), [missing])),
    /ext: ext is not installed/,
  );
});
