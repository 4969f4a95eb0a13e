import { z } from "zod";
import { OptionError } from "../core/errors.ts";
import { valueAt } from "../core/options.ts";
import { parseChain } from "../effects/chain.ts";
import { PRESETS } from "../nn/models/presets.ts";

/**
 * The study runner's config file (`deepsp experiment --config study.json`): a grid of
 * effects x training materials x test materials x architectures x seeds, a training budget per cell and the
 * quality threshold the summary measures time-to-quality against. Platform-neutral: paths stay strings here
 * (src/node/experiment resolves them against the config file's folder).
 *
 * ```jsonc
 * {
 *   "name": "study-seed",                       // letters, digits, dashes (also the default report title)
 *   "description": "...",                       // free text; say how long a full run takes
 *   "sampleRate": 48000,                        // Hz, for generated material (recordings keep their own rate)
 *   "budget": { "epochs": 200, "seconds": 300, "patience": null },   // per training: whichever ends first
 *   "qualityEsr": 0.01,                         // time-to-quality: training seconds until validation ESR < this
 *   "seeds": [1],                               // model initialisation and window shuffling
 *   "validation": { "start": 0.4, "end": 0.5 }, // held-out chunk of every training item, as fractions
 *   "training": { "overlap": 1 },               // training overrides for every architecture (see below)
 *   "architectures": [                          // preset names (deepsp presets), or objects with overrides
 *     "linear-256",
 *     { "name": "lstm-16-fast", "preset": "lstm-16", "training": { "learningRate": 0.02 } }
 *   ],
 *   "materials": {                              // material kinds for chain effects, each named
 *     "train": [{ "name": "sweeps", "kind": "sweeps", "options": { "seconds": 30 } }],
 *     "test": [{ "name": "piano", "kind": "piano", "options": { "seconds": 30 } }]
 *   },
 *   "effects": [
 *     { "name": "lowpass", "chain": "lowpass(cutoffHz=1000)" },              // rendered on every material
 *     { "name": "drive", "chain": "drive(gainDb=18)", "materials": { "test": ["piano"] } },  // a subset
 *     { "name": "paper-lowpass", "data": {                                  // a recorded dataset
 *         "align": "none", "channels": "first",
 *         "train": [{ "name": "sweeps", "pairs": [{ "input": "pre/sin.wav", "target": "post/sin.wav" }] }],
 *         "test": [{ "name": "beethoven", "pairs": [{ "input": "pre/beethoven.wav", "target": "post/beethoven.wav" }] }]
 *     } }
 *   ]
 * }
 * ```
 *
 * Training overrides (`training` at the top and per architecture, the architecture's winning): learningRate,
 * batchSize, windowLength, overlap (default 1: each sample once per epoch), burnIn, truncate, loss, schedule,
 * clipNorm. Everything else comes from the preset's recipe. Material kinds: "sweeps" (sine, square and
 * sawtooth exponential sweeps, one after another: the study's training material), every built-in kind
 * (standard, melody, sweep, noise, ...) and the external ones (piano, guitar, speech, samples); `options` are
 * the kind's own (`deepsp generate <kind> --help`), sampleRate defaulting to the config's.
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const name = () =>
  z.string().regex(NAME, {
    message: "expected a name of letters, digits and dashes (it becomes part of file names)",
  });

export const SWEEPS_KIND = "sweeps";

export const materialSchema = z.strictObject({
  name: name().describe("the material's name in cell ids and tables"),
  kind: z.string().min(1).describe('a material kind: "sweeps", a built-in kind or an external one'),
  options: z.record(z.string(), z.unknown()).default({}).describe("the kind's options"),
});

const pairFilesSchema = z.strictObject({
  input: z.string().min(1).describe("the dry recording, relative to the config file"),
  target: z.string().min(1).describe("the same audio after the effect, relative to the config file"),
});

const dataSetSchema = z.strictObject({
  name: name(),
  pairs: z.array(pairFilesSchema).min(1),
});

const dataSchema = z.strictObject({
  train: z.array(dataSetSchema).min(1).describe("training sets; each pair gets its own validation chunk"),
  test: z.array(dataSetSchema).min(1).describe("test sets, scored as one (all their pairs together)"),
  align: z
    .union([z.enum(["detect", "none"]), z.number().int()])
    .default("detect")
    .describe('latency: "detect" per pair, "none", or a delay in samples'),
  channels: z
    .enum(["first", "all"])
    .default("first")
    .describe("first: the first channel of every file (mono); all: every channel, as mono windows"),
});

export const trainingOverridesSchema = z.strictObject({
  learningRate: z.number().positive().optional(),
  batchSize: z.number().int().min(1).optional(),
  windowLength: z.number().int().min(1).optional(),
  overlap: z.number().positive().optional(),
  burnIn: z.number().int().min(0).optional(),
  truncate: z.number().int().min(1).optional(),
  loss: z.record(z.string(), z.unknown()).optional(),
  schedule: z.record(z.string(), z.unknown()).optional(),
  clipNorm: z.number().positive().nullable().optional(),
});
export type TrainingOverrides = z.output<typeof trainingOverridesSchema>;

const architectureSchema = z.preprocess(
  (value) => (typeof value === "string" ? { preset: value } : value),
  z.strictObject({
    name: name().optional().describe("default: the preset's name"),
    preset: z.string().min(1),
    training: trainingOverridesSchema.default({}),
  }),
);

const effectSchema = z.strictObject({
  name: name(),
  description: z.string().default(""),
  chain: z.string().min(1).optional().describe("an effect chain rendered on the materials"),
  data: dataSchema.optional().describe("a recorded dataset"),
  materials: z
    .strictObject({
      train: z.array(z.string()).min(1).optional(),
      test: z.array(z.string()).min(1).optional(),
    })
    .optional()
    .describe("chain effects: use only these of the config's materials (by name)"),
});

export const experimentConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: name(),
    description: z.string().default(""),
    sampleRate: z.number().int().min(8000).max(384000).default(48000),
    budget: z.strictObject({
      epochs: z.number().int().min(1).describe("epochs per training"),
      seconds: z.number().positive().describe("wall-clock seconds per training"),
      patience: z.number().int().min(1).nullable().default(null).describe("early stopping"),
    }),
    qualityEsr: z.number().positive().default(0.01),
    seeds: z.array(z.number().int().min(0).max(0xffffffff)).min(1).default([1]),
    validation: z
      .strictObject({ start: z.number().min(0).max(1), end: z.number().min(0).max(1) })
      .default({ start: 0.4, end: 0.5 }),
    training: trainingOverridesSchema.default({}),
    architectures: z.array(architectureSchema).min(1),
    materials: z
      .strictObject({ train: z.array(materialSchema).default([]), test: z.array(materialSchema).default([]) })
      .default({ train: [], test: [] }),
    effects: z.array(effectSchema).min(1),
  })
  .superRefine((config, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: "custom", path, message });
    if (!(config.validation.start < config.validation.end)) {
      issue(["validation", "end"], "expected end > start");
    } else if (config.validation.start === 0 && config.validation.end === 1) {
      issue(["validation"], "the validation chunk cannot be the whole training material");
    }
    const duplicates = (names: string[], path: (index: number) => (string | number)[], what: string) => {
      const seen = new Set<string>();
      names.forEach((value, index) => {
        if (seen.has(value)) issue(path(index), `${what} "${value}" appears twice`);
        seen.add(value);
      });
    };
    const presetNames = PRESETS.map((preset) => preset.name);
    config.architectures.forEach((architecture, index) => {
      if (!presetNames.includes(architecture.preset)) {
        issue(
          ["architectures", index, "preset"],
          `unknown preset "${architecture.preset}" (valid: ${presetNames.join(", ")})`,
        );
      }
    });
    duplicates(
      config.architectures.map((a) => a.name ?? a.preset),
      (i) => ["architectures", i, "name"],
      "architecture",
    );
    duplicates(
      config.effects.map((e) => e.name),
      (i) => ["effects", i, "name"],
      "effect",
    );
    duplicates(config.seeds.map(String), (i) => ["seeds", i], "seed");
    for (const role of ["train", "test"] as const) {
      duplicates(
        config.materials[role].map((m) => m.name),
        (i) => ["materials", role, i, "name"],
        "material",
      );
    }
    config.effects.forEach((effect, index) => {
      const path = ["effects", index];
      if ((effect.chain === undefined) === (effect.data === undefined)) {
        issue(path, 'expected exactly one of "chain" (an effect chain) and "data" (recordings)');
        return;
      }
      if (effect.data) {
        if (effect.materials) issue([...path, "materials"], "only chain effects use the config's materials");
        for (const role of ["train", "test"] as const) {
          duplicates(
            effect.data[role].map((set) => set.name),
            (i) => [...path, "data", role, i, "name"],
            "data set",
          );
        }
        return;
      }
      try {
        parseChain(effect.chain!);
      } catch (error) {
        issue([...path, "chain"], (error as Error).message);
      }
      for (const role of ["train", "test"] as const) {
        const available = config.materials[role].map((m) => m.name);
        const wanted = effect.materials?.[role];
        if (wanted) {
          wanted.forEach((material, i) => {
            if (!available.includes(material)) {
              issue(
                [...path, "materials", role, i],
                `no ${role} material "${material}" (materials.${role}: ${available.join(", ") || "none"})`,
              );
            }
          });
        } else if (available.length === 0) {
          issue(["materials", role], `chain effect "${effect.name}" needs at least one ${role} material`);
        }
      }
    });
  });

export type ExperimentConfigInput = z.input<typeof experimentConfigSchema>;
type Parsed = z.output<typeof experimentConfigSchema>;
export type MaterialSpec = z.output<typeof materialSchema>;
export type DataSpec = z.output<typeof dataSchema>;
export type DataSetSpec = z.output<typeof dataSetSchema>;
export type EffectSpec = Parsed["effects"][number];

/** An architecture with its name filled in. */
export interface ArchitectureSpec {
  name: string;
  preset: string;
  training: TrainingOverrides;
}

/** A validated config with defaults filled in (architecture names completed). */
export interface ExperimentConfig extends Omit<Parsed, "architectures" | "$schema"> {
  architectures: ArchitectureSpec[];
}

/**
 * Validates a config (parsed JSON) and fills its defaults. Throws one OptionError ("experiment/config")
 * naming every bad field by its path, e.g. `study.json: effects.2.chain: expected string, got 5`.
 */
export function parseExperimentConfig(input: unknown, source = "experiment config"): ExperimentConfig {
  const result = experimentConfigSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") {
        const known = knownKeys(issue.path);
        return `${path ? `${path}: ` : ""}unknown field ${issue.keys.map((key) => `"${key}"`).join(", ")}${known ? ` (valid: ${known})` : ""}`;
      }
      const got = valueAt(input, issue.path);
      const message = issue.message.replace(/^Invalid input: /, "").replace(/^Too (small|big): /, "");
      const shown =
        got === undefined || issue.code === "custom" ? "" : `, got ${JSON.stringify(got)?.slice(0, 80)}`;
      return `${path || "(config)"}: ${message}${shown}`;
    });
    throw new OptionError("experiment/config", `${source}: ${problems.join("; ")}`);
  }
  const { $schema: _schema, ...config } = result.data;
  return {
    ...config,
    architectures: config.architectures.map((a) => ({
      name: a.name ?? a.preset,
      preset: a.preset,
      training: a.training,
    })),
  };
}

/** The effect's materials of one role: its data sets' names, or the config's materials it selects. */
export function effectMaterialNames(
  config: ExperimentConfig,
  effect: EffectSpec,
  role: "train" | "test",
): string[] {
  if (effect.data) return effect.data[role].map((set) => set.name);
  return effect.materials?.[role] ?? config.materials[role].map((material) => material.name);
}

/** The field names valid at a path, for "unknown field" messages. */
function knownKeys(path: readonly PropertyKey[]): string | undefined {
  const keys = (schema: z.ZodObject) => Object.keys(schema.shape).join(", ");
  const parts = path.filter((part) => typeof part === "string");
  const last = parts[parts.length - 1];
  if (path.length === 0) return keys(experimentConfigSchema);
  if (last === "budget") return "epochs, seconds, patience";
  if (last === "validation") return "start, end";
  if (last === "training") return keys(trainingOverridesSchema);
  if (last === "architectures") return "name, preset, training";
  if (last === "effects") return keys(effectSchema);
  if (last === "data") return keys(dataSchema);
  if (last === "pairs") return keys(pairFilesSchema);
  if (last === "materials") return "train, test";
  if (last === "train" || last === "test") {
    if (parts.includes("data")) return keys(dataSetSchema);
    if (parts[0] === "materials") return keys(materialSchema);
  }
  return undefined;
}
