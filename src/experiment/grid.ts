import { OptionError } from "../core/errors.ts";
import { findPreset } from "../nn/models/presets.ts";
import {
  type ArchitectureSpec,
  type DataSetSpec,
  type EffectSpec,
  type ExperimentConfig,
  effectMaterialNames,
  type MaterialSpec,
  type TrainingOverrides,
} from "./config.ts";

/**
 * The grid: effects x training materials x architectures x seeds make trainings; each training is scored
 * on each of its effect's test materials, one cell per test material. A cell id is
 * `<effect>.<train>.<test>.<architecture>.s<seed>` (names are letters, digits and dashes, so ids are
 * unique, stable across runs and safe as file names); a training id leaves the test material out. The order
 * is the config's: effects, then training materials, architectures, seeds, test materials.
 */
export interface CellSpec {
  id: string;
  trainingId: string;
  effect: string;
  train: string;
  test: string;
  architecture: string;
  seed: number;
}

/** One model to train, and the cells (test materials) it is scored on. */
export interface TrainingSpec {
  id: string;
  effect: string;
  train: string;
  architecture: string;
  seed: number;
  cells: CellSpec[];
}

/** The budget a run actually uses: the config's, lowered by the CLI's quick-run flags. */
export interface RunLimits {
  epochs: number;
  seconds: number;
  patience: number | null;
  /** Cap on every material's and recording's length, seconds (null: as configured). */
  materialSeconds: number | null;
}

export function trainingId(effect: string, train: string, architecture: string, seed: number): string {
  return `${effect}.${train}.${architecture}.s${seed}`;
}

export function cellId(
  effect: string,
  train: string,
  test: string,
  architecture: string,
  seed: number,
): string {
  return `${effect}.${train}.${test}.${architecture}.s${seed}`;
}

export function expandGrid(config: ExperimentConfig): { trainings: TrainingSpec[]; cells: CellSpec[] } {
  const trainings: TrainingSpec[] = [];
  for (const effect of config.effects) {
    const tests = effectMaterialNames(config, effect, "test");
    for (const train of effectMaterialNames(config, effect, "train")) {
      for (const architecture of config.architectures) {
        for (const seed of config.seeds) {
          const id = trainingId(effect.name, train, architecture.name, seed);
          trainings.push({
            id,
            effect: effect.name,
            train,
            architecture: architecture.name,
            seed,
            cells: tests.map((test) => ({
              id: cellId(effect.name, train, test, architecture.name, seed),
              trainingId: id,
              effect: effect.name,
              train,
              test,
              architecture: architecture.name,
              seed,
            })),
          });
        }
      }
    }
  }
  return { trainings, cells: trainings.flatMap((training) => training.cells) };
}

/**
 * Whether `id` matches any of the comma-separated glob patterns (`*`: any run of characters, `?`: one).
 * A pattern without wildcards must match the whole id.
 */
export function matchesGlob(patterns: string, id: string): boolean {
  return patterns
    .split(",")
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== "")
    .some((pattern) => globToRegExp(pattern).test(id));
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split("")
    .map((character) =>
      character === "*" ? ".*" : character === "?" ? "." : character.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${body}$`);
}

/** Looks up the parts of the config one training uses. */
export function trainingParts(
  config: ExperimentConfig,
  training: Pick<TrainingSpec, "effect" | "train" | "architecture">,
): { effect: EffectSpec; train: MaterialSpec | DataSetSpec; architecture: ArchitectureSpec } {
  const effect = config.effects.find((candidate) => candidate.name === training.effect);
  const architecture = config.architectures.find((candidate) => candidate.name === training.architecture);
  if (!effect || !architecture) {
    throw new OptionError(
      "experiment/grid",
      `no effect "${training.effect}" or architecture "${training.architecture}"`,
    );
  }
  return { effect, train: materialOf(config, effect, "train", training.train), architecture };
}

/** A material (chain effects) or data set (recorded effects) of an effect, by name. */
export function materialOf(
  config: ExperimentConfig,
  effect: EffectSpec,
  role: "train" | "test",
  name: string,
): MaterialSpec | DataSetSpec {
  const found = effect.data
    ? effect.data[role].find((set) => set.name === name)
    : config.materials[role].find((material) => material.name === name);
  if (!found)
    throw new OptionError("experiment/grid", `effect ${effect.name} has no ${role} material "${name}"`);
  return found;
}

/** An architecture's training overrides: the config's, then the architecture's own. */
export function mergedOverrides(config: ExperimentConfig, architecture: ArchitectureSpec): TrainingOverrides {
  return { ...config.training, ...architecture.training };
}

/**
 * What a training's result depends on, as a short hash: its effect, training material, architecture (the
 * preset's model and recipe as this release defines them, so a changed preset retrains) and overrides, seed,
 * validation chunk, sample rate and limits. A cell or model file made with another
 * fingerprint (another budget, edited config) is stale and is made again.
 */
export function trainingFingerprint(
  config: ExperimentConfig,
  training: TrainingSpec,
  limits: RunLimits,
): string {
  const { effect, train, architecture } = trainingParts(config, training);
  return hashJson({
    effect: effect.chain ?? { align: effect.data?.align, channels: effect.data?.channels },
    train,
    architecture: {
      preset: architecture.preset,
      recipe: findPreset(architecture.preset),
      training: mergedOverrides(config, architecture),
    },
    seed: training.seed,
    validation: config.validation,
    sampleRate: config.sampleRate,
    limits,
  });
}

/** A cell's fingerprint: its training's and its test material's. */
export function cellFingerprint(
  config: ExperimentConfig,
  cell: CellSpec,
  limits: RunLimits,
  trainingPrint: string,
): string {
  const effect = config.effects.find((candidate) => candidate.name === cell.effect)!;
  return hashJson({ training: trainingPrint, test: materialOf(config, effect, "test", cell.test), limits });
}

/** 64-bit FNV-1a (two 32-bit lanes) of canonical JSON (object keys sorted), as 16 hex digits. */
export function hashJson(value: unknown): string {
  const text = canonicalJson(value);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
