import type { Audio } from "../audio/audio.ts";
import { type Pair, type PairOptions, type PairReport, preparePair } from "./pair.ts";
import { ROLES, type Role, roleFrames, type Split, type SplitSpec, splitFrames } from "./split.ts";
import { type SplitPair, type WindowOptions, Windows } from "./windows.ts";

/** What one role of a dataset holds: audio length and the number of windows it makes. */
export interface RoleSummary {
  frames: number;
  seconds: number;
  /** [startSeconds, endSeconds) of each region. */
  regionsSeconds: [number, number][];
  windows: number;
}

/** A checked, aligned and split pair, with the summary the CLI prints and runs record. */
export interface PreparedPair extends SplitPair {
  report: PairReport;
  roles: Record<Role, RoleSummary>;
}

/**
 * The whole data path for one recording pair: check and align (`preparePair`), split into contiguous
 * train / validation / test regions before any windowing, and count the windows each role yields.
 */
export function preparePairForTraining(
  name: string,
  input: Audio,
  target: Audio,
  options: { pair?: PairOptions; split?: SplitSpec; windows: WindowOptions },
): PreparedPair {
  const { pair, report } = preparePair(input, target, options.pair);
  const split = splitFrames(report.frames, report.sampleRate, options.split);
  return { name, pair, split, report, roles: summariseRoles(pair, split, options.windows) };
}

export function summariseRoles(pair: Pair, split: Split, windows: WindowOptions): Record<Role, RoleSummary> {
  const summary = (role: Role): RoleSummary => {
    const regions = split.regions[role];
    return {
      frames: roleFrames(split, role),
      seconds: roleFrames(split, role) / split.sampleRate,
      regionsSeconds: regions.map((region) => [
        region.start / split.sampleRate,
        region.end / split.sampleRate,
      ]),
      windows: regions.length === 0 ? 0 : new Windows([{ pair, regions }], windows).count,
    };
  };
  return Object.fromEntries(ROLES.map((role) => [role, summary(role)])) as Record<Role, RoleSummary>;
}
