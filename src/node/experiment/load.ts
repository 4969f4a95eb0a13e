import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { type Audio, makeAudio } from "../../audio/audio.ts";
import { DeepspError, OptionError } from "../../core/errors.ts";
import type { Pair } from "../../data/pair.ts";
import { preparePair } from "../../data/pair.ts";
import type { SplitPair } from "../../data/windows.ts";
import {
  formatChain,
  parseChain,
  type ResolvedStep,
  renderChain,
  resolveChain,
  resolvedChain,
} from "../../effects/chain.ts";
import { middleSeconds, middleSplit } from "../../experiment/cell.ts";
import {
  type DataSetSpec,
  type EffectSpec,
  type ExperimentConfig,
  type MaterialSpec,
  parseExperimentConfig,
  SWEEPS_KIND,
} from "../../experiment/config.ts";
import { materialOf, type RunLimits } from "../../experiment/grid.ts";
import { studySweeps, studySweepsSchema } from "../../experiment/sweeps.ts";
import { builtinMaterials } from "../../signals/index.ts";
import { nodeEffects } from "../effect-registry.ts";
import { readFileBytes, readWavFile } from "../files.ts";
import { externalMaterials } from "../material/index.ts";

/**
 * Material, effects and recordings for the study runner: reads and checks a config file, generates
 * material (the study's sweeps, the built-in kinds, the external ones), renders effect chains on it, reads
 * recorded datasets (paths relative to the config file), and makes the training parts (a validation chunk
 * from the middle of every training item) and test pairs of a cell. Generated audio and rendered pairs are
 * cached in memory, so the cells of one effect in one worker render them once.
 */

/** A cell cannot run here (a missing program or recording): it is recorded as "skipped" with this reason. */
export class SkipError extends DeepspError {
  constructor(message: string) {
    super("experiment/skipped", message);
  }
}

/** A material kind, built-in or external, as the runner sees it. */
export interface MaterialSource {
  name: string;
  schema: z.ZodObject;
  unavailableReason(): Promise<string | undefined>;
  generate(options: Record<string, unknown>): Promise<Audio>;
}

export function materialSources(): MaterialSource[] {
  return [
    {
      name: SWEEPS_KIND,
      schema: studySweepsSchema,
      unavailableReason: async () => undefined,
      generate: async (options) => studySweeps(options),
    },
    ...builtinMaterials.map((kind) => ({
      name: kind.name,
      schema: kind.schema,
      unavailableReason: async () => undefined,
      generate: async (options: Record<string, unknown>) => kind.generate(options),
    })),
    ...externalMaterials.map((kind) => ({
      name: kind.name,
      schema: kind.schema,
      unavailableReason: () => kind.unavailableReason(),
      generate: (options: Record<string, unknown>) => kind.generate(options),
    })),
  ];
}

/** A config file read, validated and checked against this machine's effects and material kinds. */
export interface LoadedConfig {
  path: string;
  /** The folder data paths are relative to. */
  dir: string;
  config: ExperimentConfig;
}

/**
 * Reads and validates a config file. Besides the schema (config.ts) it checks that every material kind
 * exists and its options are valid, and that every chain names known effects with valid parameters; errors
 * name the field (`materials.train.0.options: ...`, `effects.3.chain: ...`). Missing programs and recordings
 * are not errors here: their cells are skipped.
 */
export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  const text = new TextDecoder().decode(await readFileBytes(path));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new OptionError("experiment/config", `${path}: not valid JSON: ${(error as Error).message}`);
  }
  const config = parseExperimentConfig(json, path);
  checkConfig(config, path);
  return { path, dir: dirname(resolve(path)), config };
}

export function checkConfig(config: ExperimentConfig, source: string): void {
  const problems: string[] = [];
  const sources = materialSources();
  for (const role of ["train", "test"] as const) {
    config.materials[role].forEach((material, index) => {
      const field = `materials.${role}.${index}`;
      const kind = sources.find((candidate) => candidate.name === material.kind);
      if (!kind) {
        problems.push(
          `${field}.kind: unknown material kind "${material.kind}" (valid: ${sources.map((s) => s.name).join(", ")})`,
        );
        return;
      }
      const result = kind.schema.safeParse(materialOptions(config, material));
      if (!result.success) {
        const issues = result.error.issues.map(
          (issue) =>
            `${[field, "options", ...issue.path.map(String)].join(".")}: ${issue.message.replace(/^Invalid input: /, "")}`,
        );
        problems.push(...issues);
      }
    });
  }
  const effects = nodeEffects();
  config.effects.forEach((effect, index) => {
    if (effect.chain === undefined) return;
    try {
      resolveChain(parseChain(effect.chain), effects);
    } catch (error) {
      problems.push(`effects.${index}.chain: ${(error as Error).message}`);
    }
  });
  if (problems.length > 0) throw new OptionError("experiment/config", `${source}: ${problems.join("; ")}`);
}

/** A material's options with the config's sample rate as the default. */
function materialOptions(config: ExperimentConfig, material: MaterialSpec): Record<string, unknown> {
  return { sampleRate: config.sampleRate, ...material.options };
}

/** The canonical chain string with every parameter (what cells record), or null for recordings. */
export function canonicalChain(effect: EffectSpec): string | null {
  if (effect.chain === undefined) return null;
  return formatChain(resolvedChain(resolveChain(parseChain(effect.chain), nodeEffects())));
}

/** Pairs with the warnings met while making them (trimmed lengths, detected latency...). */
export interface LoadedPairs {
  pairs: { name: string; pair: Pair }[];
  warnings: string[];
}

export class ExperimentData {
  private readonly loaded: LoadedConfig;
  private readonly limits: RunLimits;
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly sources = materialSources();
  private readonly effects = nodeEffects();

  constructor(loaded: LoadedConfig, limits: RunLimits) {
    this.loaded = loaded;
    this.limits = limits;
  }

  get config(): ExperimentConfig {
    return this.loaded.config;
  }

  /** Why an effect's material of one role cannot be made here, or undefined when it can. */
  async unavailable(effect: EffectSpec, role: "train" | "test", name: string): Promise<string | undefined> {
    const material = materialOf(this.config, effect, role, name);
    if (effect.data) {
      for (const pair of (material as DataSetSpec).pairs) {
        for (const file of [pair.input, pair.target]) {
          const path = this.dataPath(file);
          if (!existsSync(path)) {
            return `${file} is absent (looked for ${path}${this.sharedHint(file)})`;
          }
        }
      }
      return undefined;
    }
    const steps = this.steps(effect);
    for (const { effect: step } of steps) {
      const reason = await step.unavailableReason?.();
      if (reason) return `effect ${step.name}: ${reason}`;
    }
    const spec = material as MaterialSpec;
    const reason = await this.source(spec).unavailableReason();
    return reason ? `material ${spec.name} (${spec.kind}): ${reason}` : undefined;
  }

  /** The training items of an effect's training material, each with a validation chunk from its middle. */
  async trainingParts(effect: EffectSpec, name: string): Promise<{ parts: SplitPair[]; warnings: string[] }> {
    const { pairs, warnings } = await this.pairs(effect, "train", name);
    return {
      parts: pairs.map((item) => middleSplit(item.name, item.pair, this.config.validation)),
      warnings,
    };
  }

  /** The test pair of an effect's test material (a data set's pairs joined by 0.25 s of silence). */
  async testPair(effect: EffectSpec, name: string): Promise<{ pair: Pair; warnings: string[] }> {
    const { pairs, warnings } = await this.pairs(effect, "test", name);
    if (pairs.length === 1) return { pair: pairs[0]!.pair, warnings };
    return { pair: joinPairs(pairs.map((item) => item.pair)), warnings };
  }

  private async pairs(effect: EffectSpec, role: "train" | "test", name: string): Promise<LoadedPairs> {
    const reason = await this.unavailable(effect, role, name);
    if (reason) throw new SkipError(reason);
    const material = materialOf(this.config, effect, role, name);
    if (effect.data) return this.dataSet(effect, material as DataSetSpec);
    return this.cached(`pair\u0000${effect.name}\u0000${JSON.stringify(material)}`, async () => {
      const spec = material as MaterialSpec;
      const input = await this.materialAudio(spec);
      const rendered = await renderChain(input, this.steps(effect));
      const { pair, report } = preparePair(input, rendered.audio, {
        align: rendered.latencySamples,
        inputName: `${spec.name} (${spec.kind})`,
        targetName: `${spec.name} through ${effect.name}`,
      });
      return { pairs: [{ name: `${effect.name}/${spec.name}`, pair }], warnings: report.warnings };
    });
  }

  private dataSet(effect: EffectSpec, set: DataSetSpec): Promise<LoadedPairs> {
    const data = effect.data!;
    return this.cached(`data\u0000${JSON.stringify([set, data.align, data.channels])}`, async () => {
      const warnings: string[] = [];
      const pairs: LoadedPairs["pairs"] = [];
      for (const files of set.pairs) {
        const [input, target] = await Promise.all(
          [files.input, files.target].map(async (file) => {
            const wav = await readWavFile(this.dataPath(file));
            warnings.push(...wav.warnings.map((warning) => `${file}: ${warning}`));
            return data.channels === "first"
              ? makeAudio(wav.audio.sampleRate, [wav.audio.channels[0]!])
              : wav.audio;
          }),
        );
        const { pair, report } = preparePair(input!, target!, {
          align: data.align,
          inputName: files.input,
          targetName: files.target,
        });
        warnings.push(...report.warnings);
        if (report.delay.source === "detected" && report.delay.delaySamples !== 0) {
          warnings.push(`${files.target}: latency ${report.delay.delaySamples} samples detected and removed`);
        }
        const capped = this.capPair(pair);
        pairs.push({ name: `${effect.name}/${set.name}/${basename(files.input)}`, pair: capped });
      }
      return { pairs, warnings };
    });
  }

  private capPair(pair: Pair): Pair {
    const seconds = this.limits.materialSeconds;
    if (seconds === null) return pair;
    return { input: middleSeconds(pair.input, seconds), target: middleSeconds(pair.target, seconds) };
  }

  /**
   * Generates a material, its length capped by the run's materialSeconds: asked for directly where the kind
   * allows that length, else generated as configured and cut to its middle (the standard signal needs 20 s).
   */
  private materialAudio(spec: MaterialSpec): Promise<Audio> {
    const source = this.source(spec);
    const options = materialOptions(this.config, spec);
    return this.cached(`material\u0000${spec.kind}\u0000${JSON.stringify(options)}`, async () => {
      const cap = this.limits.materialSeconds;
      if (cap === null) return source.generate(options);
      const parsed = source.schema.safeParse(options);
      const configured = parsed.success ? (parsed.data as { seconds?: number }).seconds : undefined;
      if (configured !== undefined && configured <= cap) return source.generate(options);
      const capped = { ...options, seconds: cap };
      if (source.schema.safeParse(capped).success) return source.generate(capped);
      return middleSeconds(await source.generate(options), cap);
    }) as Promise<Audio>;
  }

  private source(spec: MaterialSpec): MaterialSource {
    const source = this.sources.find((candidate) => candidate.name === spec.kind);
    if (!source) throw new OptionError("experiment/config", `unknown material kind "${spec.kind}"`);
    return source;
  }

  private steps(effect: EffectSpec): ResolvedStep[] {
    return resolveChain(parseChain(effect.chain!), this.effects);
  }

  dataPath(file: string): string {
    return isAbsolute(file) ? file : resolve(this.loaded.dir, file);
  }

  private sharedHint(file: string): string {
    return file.includes("shared/data")
      ? "; the study's recordings live in ../shared/data beside the repository, which this checkout lacks"
      : "";
  }

  private cached<T>(key: string, make: () => Promise<T>): Promise<T> {
    let entry = this.cache.get(key) as Promise<T> | undefined;
    if (!entry) {
      entry = make();
      this.cache.set(key, entry);
      entry.catch(() => this.cache.delete(key));
    }
    return entry;
  }
}

/** Pairs joined end to end, 0.25 s of silence between them (one test set scored as one). */
function joinPairs(pairs: readonly Pair[]): Pair {
  const rate = pairs[0]!.input.sampleRate;
  const channels = pairs[0]!.input.channels.length;
  for (const pair of pairs) {
    if (pair.input.sampleRate !== rate || pair.input.channels.length !== channels) {
      throw new OptionError(
        "experiment/data",
        `a test set's pairs must share sample rate and channels (${rate} Hz, ${channels} ch; got ${pair.input.sampleRate} Hz, ${pair.input.channels.length} ch)`,
      );
    }
  }
  const gap = Math.round(0.25 * rate);
  const join = (pick: (pair: Pair) => Audio): Audio => {
    const total = pairs.reduce((sum, pair) => sum + pick(pair).channels[0]!.length + gap, -gap);
    return makeAudio(
      rate,
      Array.from({ length: channels }, (_, c) => {
        const out = new Float32Array(total);
        let offset = 0;
        for (const pair of pairs) {
          const channel = pick(pair).channels[c]!;
          out.set(channel, offset);
          offset += channel.length + gap;
        }
        return out;
      }),
    );
  };
  return { input: join((pair) => pair.input), target: join((pair) => pair.target) };
}

/** Reads a JSON file, or undefined when it is missing or unreadable (a stale or damaged cell is redone). */
export async function readJsonIfValid(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined;
  }
}
