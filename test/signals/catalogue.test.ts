import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { z } from "zod";
import { OptionError } from "../../src/core/errors.ts";
import { builtinMaterials, findMaterial } from "../../src/signals/catalogue.ts";
import { correlation } from "../helpers/signals.ts";

/** Short options every kind accepts (standard needs 20 s). */
function quick(name: string): { seconds: number } {
  return { seconds: name === "standard" ? 20 : 0.5 };
}

/** Kinds whose output depends on the seed in mono. */
const SEEDED = new Set(["chord", "melody", "noise", "standard"]);

describe("material catalogue", () => {
  test("lists the nine kinds, each with a one-line description", () => {
    assert.deepEqual(
      builtinMaterials.map((kind) => kind.name),
      ["sweep", "tone", "chord", "melody", "noise", "chirps", "blips", "silence", "standard"],
    );
    for (const kind of builtinMaterials) assert.match(kind.description, /^[^\n]{10,100}$/);
  });

  test("every option of every kind has a description and the common options are everywhere", () => {
    for (const kind of builtinMaterials) {
      for (const [field, schema] of Object.entries(kind.schema.shape)) {
        assert.ok((schema as z.ZodType).description, `${kind.name}.${field} has no description`);
      }
      for (const common of ["sampleRate", "seconds", "amplitude", "channels", "stereo", "seed"]) {
        assert.ok(common in kind.schema.shape, `${kind.name} lacks ${common}`);
      }
      // defaults alone are valid
      assert.doesNotThrow(() => kind.schema.parse({}), kind.name);
    }
  });

  test("findMaterial finds each kind and rejects unknown names listing the valid ones", () => {
    for (const kind of builtinMaterials) assert.equal(findMaterial(kind.name), kind);
    assert.throws(
      () => findMaterial("sweeep"),
      (e: unknown) =>
        e instanceof OptionError &&
        /unknown material kind "sweeep" \(valid: sweep, tone, chord/.test(e.message),
    );
  });

  test("every kind: exact length, peak = amplitude, deterministic, seed matters where random", () => {
    for (const kind of builtinMaterials) {
      const options = { ...quick(kind.name), sampleRate: 22050, amplitude: 0.3 };
      const audio = kind.generate(options);
      const frames = Math.round(options.seconds * 22050);
      assert.equal(audio.sampleRate, 22050);
      assert.equal(audio.channels.length, 1);
      assert.equal(audio.channels[0]!.length, frames, kind.name);
      const peak = audio.channels[0]!.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      assert.equal(peak, kind.name === "silence" ? 0 : Math.fround(0.3), `${kind.name} peak`);
      assert.deepEqual(kind.generate(options).channels, audio.channels, `${kind.name} is deterministic`);
      const reseeded = kind.generate({ ...options, seed: 99 }).channels;
      if (SEEDED.has(kind.name))
        assert.notDeepEqual(reseeded, audio.channels, `${kind.name} depends on seed`);
      else assert.deepEqual(reseeded, audio.channels, `${kind.name} ignores seed`);
    }
  });

  test("every kind: identical stereo copies, independent stereo decorrelates", () => {
    for (const kind of builtinMaterials) {
      if (kind.name === "silence") continue;
      const options = { ...quick(kind.name), seconds: Math.max(quick(kind.name).seconds, 1), channels: 2 };
      const same = kind.generate(options);
      assert.deepEqual(same.channels[1], same.channels[0], `${kind.name} identical`);
      const independent = kind.generate({ ...options, stereo: "independent" });
      const r = correlation(independent.channels[0]!, independent.channels[1]!);
      // standard keeps its blips identical on purpose; they are a tiny part of its energy
      assert.ok(Math.abs(r) < 0.15, `${kind.name} independent: r = ${r.toFixed(3)}`);
    }
  });

  test("generate validates: bad values and unknown names throw OptionError naming the field", () => {
    for (const kind of builtinMaterials) {
      assert.throws(
        () => kind.generate({ seconds: -1 }),
        (e: unknown) => e instanceof OptionError && e.message.startsWith(`${kind.name} options: seconds:`),
        kind.name,
      );
      assert.throws(
        () => kind.generate({ colour: "red" } as never),
        (e: unknown) =>
          e instanceof OptionError && /unknown option "colour" \(valid: sampleRate, seconds/.test(e.message),
      );
      assert.throws(() => kind.generate({ sampleRate: 1000 }), /sampleRate/);
    }
  });
});
