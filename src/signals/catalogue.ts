import type { z } from "zod";
import type { Audio } from "../audio/audio.ts";
import { OptionError } from "../core/errors.ts";
import { blips, blipsSchema, chirps, chirpsSchema, silence, silenceSchema } from "./events.ts";
import { melody, melodySchema } from "./melody.ts";
import { noise, noiseSchema } from "./noise.ts";
import { standard, standardSchema } from "./standard.ts";
import { sweep, sweepSchema } from "./sweeps.ts";
import { chord, chordSchema, tone, toneSchema } from "./tones.ts";

/**
 * One kind of built-in material. The registry below is the single place the CLI (`deepsp material list`,
 * one `--kebab-case` flag per schema field, its description as help) and the demo look kinds up.
 */
export interface MaterialKind<S extends z.ZodObject = z.ZodObject> {
  /** "sweep", "tone", "chord", "melody", "noise", "chirps", "blips", "silence" or "standard". */
  name: string;
  /** One line for `deepsp material list`. */
  description: string;
  /** Strict zod object: every option, with its default and a `.describe()` giving units. */
  schema: S;
  /** Validates with parseOptions (OptionError naming the field on bad input), then renders. */
  generate(options: z.input<S>): Audio;
}

function kind<S extends z.ZodObject>(
  name: string,
  description: string,
  schema: S,
  generate: (options: z.input<S>) => Audio,
): MaterialKind<S> {
  return { name, description, schema, generate };
}

export const builtinMaterials: readonly MaterialKind[] = [
  kind(
    "sweep",
    "band-limited sine/triangle/square/sawtooth sweep, linear or exponential",
    sweepSchema,
    sweep,
  ),
  kind(
    "tone",
    "held band-limited tone at a frequency or MIDI note, with attack and release",
    toneSchema,
    tone,
  ),
  kind("chord", "held chord from MIDI notes or a named chord on a root", chordSchema, chord),
  kind(
    "melody",
    "seeded plucked-string and piano phrases (music-like, no external tool)",
    melodySchema,
    melody,
  ),
  kind("noise", "seeded white (uniform or gaussian) or pink noise, level as peak or RMS", noiseSchema, noise),
  kind("chirps", "short sweeps repeated with gaps", chirpsSchema, chirps),
  kind("blips", "impulses or short clicks at a fixed spacing, for latency measurement", blipsSchema, blips),
  kind("silence", "digital silence", silenceSchema, silence),
  kind(
    "standard",
    "composite capture signal: blips, sweeps, chirps, melody, chords, noise at several levels",
    standardSchema,
    standard,
  ),
];

/** The built-in kind called `name`; an OptionError listing the valid names when there is none. */
export function findMaterial(name: string): MaterialKind {
  const found = builtinMaterials.find((material) => material.name === name);
  if (found) return found;
  const valid = builtinMaterials.map((material) => material.name).join(", ");
  throw new OptionError("options/unknown-material", `unknown material kind "${name}" (valid: ${valid})`);
}
