import { OptionError } from "../core/errors.ts";

export type Role = "train" | "validation" | "test";
export const ROLES: readonly Role[] = ["train", "validation", "test"];

/** Frames [start, end) of one pair. */
export interface Region {
  start: number;
  end: number;
}

/**
 * How to divide one pair among the roles, before any windowing, so that no sample of one role is ever
 * seen by another:
 * - fractions: contiguous blocks in `order` (default train, validation, test: the held-out audio is the
 *   end of the take, as NAM does), sized by fractions that sum to 1;
 * - ranges: explicit [startSeconds, endSeconds) ranges per role (may be several; must not overlap);
 * - whole: the entire pair plays one role (e.g. train on sweeps, test on a separate piano recording).
 */
export type SplitSpec =
  | { kind: "fractions"; train: number; validation: number; test: number; order?: Role[] }
  | { kind: "ranges"; train?: [number, number][]; validation?: [number, number][]; test?: [number, number][] }
  | { kind: "whole"; role: Role };

/** The result, recorded with every trained model: the spec and the frame regions it produced. */
export interface Split {
  spec: SplitSpec;
  sampleRate: number;
  frames: number;
  regions: Record<Role, Region[]>;
}

export const DEFAULT_SPLIT: SplitSpec = { kind: "fractions", train: 0.8, validation: 0.1, test: 0.1 };

/** Divides `frames` frames at `sampleRate` Hz according to `spec`; throws OptionError for bad specs. */
export function splitFrames(frames: number, sampleRate: number, spec: SplitSpec = DEFAULT_SPLIT): Split {
  const regions: Record<Role, Region[]> = { train: [], validation: [], test: [] };
  if (spec.kind === "whole") {
    regions[spec.role].push({ start: 0, end: frames });
  } else if (spec.kind === "fractions") {
    const order = spec.order ?? ROLES;
    if (order.length !== 3 || new Set(order).size !== 3 || !order.every((role) => ROLES.includes(role))) {
      throw new OptionError(
        "options/invalid",
        `split order must name train, validation and test once each, got ${JSON.stringify(order)}`,
      );
    }
    for (const role of ROLES) {
      const fraction = spec[role];
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new OptionError("options/invalid", `split ${role} fraction must be in [0, 1], got ${fraction}`);
      }
    }
    const total = spec.train + spec.validation + spec.test;
    if (Math.abs(total - 1) > 1e-9) {
      throw new OptionError("options/invalid", `split fractions must sum to 1, got ${total}`);
    }
    let start = 0;
    let cumulative = 0;
    for (const role of order) {
      cumulative += spec[role];
      // Round the cumulative boundary, not each size, so the blocks tile [0, frames) exactly.
      const end = role === order[2] ? frames : Math.round(cumulative * frames);
      if (end > start) regions[role].push({ start, end });
      start = end;
    }
  } else {
    const claimed: (Region & { role: Role })[] = [];
    for (const role of ROLES) {
      for (const range of spec[role] ?? []) {
        const [from, to] = range;
        if (!(from >= 0 && to > from)) {
          throw new OptionError(
            "options/invalid",
            `split ${role} range [${from}, ${to}] s must have 0 <= start < end`,
          );
        }
        const region = {
          start: Math.round(from * sampleRate),
          end: Math.min(frames, Math.round(to * sampleRate)),
        };
        if (region.start >= frames) {
          throw new OptionError(
            "options/invalid",
            `split ${role} range starts at ${from} s, after the end of the audio (${(frames / sampleRate).toFixed(3)} s)`,
          );
        }
        const overlap = claimed.find((other) => region.start < other.end && other.start < region.end);
        if (overlap) {
          throw new OptionError(
            "options/invalid",
            `split ${role} range [${from}, ${to}] s overlaps a ${overlap.role} range: roles must not share audio`,
          );
        }
        claimed.push({ ...region, role });
        regions[role].push(region);
      }
    }
    for (const role of ROLES) regions[role].sort((a, b) => a.start - b.start);
  }
  return { spec, sampleRate, frames, regions };
}

/** Total frames given to a role. */
export function roleFrames(split: Split, role: Role): number {
  return split.regions[role].reduce((sum, region) => sum + region.end - region.start, 0);
}

/**
 * Parses the CLI's split syntax: "0.8,0.1,0.1" (train, validation, test fractions), or
 * "train=0-30,validation=30-35,test=35-40" (seconds; several ranges per role separated by "+", e.g.
 * "train=0-10+20-40"), or "train" / "validation" / "test" (the whole pair).
 */
export function parseSplitSpec(text: string): SplitSpec {
  const trimmed = text.trim();
  if ((ROLES as readonly string[]).includes(trimmed)) return { kind: "whole", role: trimmed as Role };
  if (/^[\d.]+(,[\d.]+){2}$/.test(trimmed)) {
    const [train, validation, test] = trimmed.split(",").map(Number) as [number, number, number];
    return { kind: "fractions", train, validation, test };
  }
  const spec: Extract<SplitSpec, { kind: "ranges" }> = { kind: "ranges" };
  for (const part of trimmed.split(",")) {
    const match = /^(train|validation|test)=(.+)$/.exec(part.trim());
    if (!match) throw badSplit(text);
    const role = match[1] as Role;
    spec[role] = match[2]!.split("+").map((range) => {
      const bounds = /^([\d.]+)-([\d.]+)$/.exec(range.trim());
      if (!bounds) throw badSplit(text);
      return [Number(bounds[1]), Number(bounds[2])] as [number, number];
    });
  }
  return spec;
}

function badSplit(text: string): OptionError {
  return new OptionError(
    "options/invalid",
    `split "${text}" is not understood: use fractions "0.8,0.1,0.1", ranges in seconds ` +
      `"train=0-30,validation=30-35,test=35-40", or a whole role "train" / "validation" / "test"`,
  );
}
