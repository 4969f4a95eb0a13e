import type { Comparison } from "../eval/types.ts";
import { type HistoryPoint, type TrainingSummary, timeToQuality } from "./cell.ts";
import type { ExperimentConfig } from "./config.ts";
import type { CellSpec, RunLimits } from "./grid.ts";

/**
 * What the study runner writes: one file per cell (`cells/<id>.json`, a CellRecord) and, after the grid,
 * `results.json` (the config and every cell of the grid, in grid order, "pending" for cells with no file
 * yet), from which the Markdown and HTML summaries are made. Platform-neutral.
 */

export const CELL_FORMAT = "deepsp-experiment-cell";
export const RESULTS_FORMAT = "deepsp-experiment-results";

export type CellStatus = "done" | "failed" | "skipped";

/** One cell's outcome: `cells/<id>.json`. */
export interface CellRecord extends CellSpec {
  format: typeof CELL_FORMAT;
  version: 1;
  experiment: string;
  status: CellStatus;
  /** Why a cell failed or was skipped (null when done). */
  reason: string | null;
  /** The effect chain with every parameter (chain effects) or null (recordings). */
  chain: string | null;
  preset: string;
  /** What the result depends on (see grid.ts); a cell with another fingerprint is made again. */
  fingerprint: string;
  limits: RunLimits;
  training: TrainingSummary | null;
  qualityEsr: number;
  /** Training seconds until the validation ESR first fell below qualityEsr, or null. */
  timeToQualitySeconds: number | null;
  /** Scores on the test material: the model's and the input passed through (identity), from compare(). */
  metrics: Comparison | null;
  testEsr: number | null;
  identityEsr: number | null;
  /** Streaming run over the test material: compute seconds per second of mono audio (block 64). */
  realTimeFactor: number | null;
  /** Test material: seconds and sample rate. */
  testSeconds: number | null;
  sampleRate: number | null;
  /** The trained model, relative to the results folder (null when none was trained). */
  model: string | null;
  warnings: string[];
  startedAt: string;
  finishedAt: string;
  /** Wall-clock seconds this cell took in its worker (the training is shared by a training's cells). */
  wallSeconds: number;
}

/** The fields of a cell record that say what ran, before anything is measured. */
export type CellIdentity = Pick<
  CellRecord,
  | keyof CellSpec
  | "experiment"
  | "status"
  | "reason"
  | "chain"
  | "preset"
  | "fingerprint"
  | "limits"
  | "qualityEsr"
  | "startedAt"
  | "finishedAt"
  | "wallSeconds"
>;

/** A cell record with nothing measured: every result field null (the outcome overrides what it has). */
export function unmeasuredCell(identity: CellIdentity): CellRecord {
  return {
    format: CELL_FORMAT,
    version: 1,
    ...identity,
    training: null,
    timeToQualitySeconds: null,
    metrics: null,
    testEsr: null,
    identityEsr: null,
    realTimeFactor: null,
    testSeconds: null,
    sampleRate: null,
    model: null,
    warnings: [],
  };
}

/** A cell of the grid with no file yet (filtered out by --only, or the run was stopped). */
export interface PendingCell extends CellSpec {
  status: "pending";
}

export type ResultsCell = CellRecord | PendingCell;

export interface ResultsFile {
  format: typeof RESULTS_FORMAT;
  version: 1;
  createdAt: string;
  config: ExperimentConfig;
  /** The limits of the run that wrote this file (cells record their own). */
  limits: RunLimits;
  counts: Record<CellStatus | "pending", number>;
  cells: ResultsCell[];
}

/** Every cell of the grid in grid order, from the records found (time-to-quality recomputed for the config). */
export function buildResults(
  config: ExperimentConfig,
  grid: readonly CellSpec[],
  records: ReadonlyMap<string, CellRecord>,
  limits: RunLimits,
  createdAt = new Date().toISOString(),
): ResultsFile {
  const counts = { done: 0, failed: 0, skipped: 0, pending: 0 };
  const cells: ResultsCell[] = grid.map((spec) => {
    const record = records.get(spec.id);
    if (!record) {
      counts.pending++;
      return { ...spec, status: "pending" as const };
    }
    counts[record.status]++;
    const training = record.training;
    return training
      ? {
          ...record,
          qualityEsr: config.qualityEsr,
          timeToQualitySeconds: timeToQuality(
            training.history,
            training.initialValidationEsr,
            config.qualityEsr,
          ),
        }
      : { ...record, qualityEsr: config.qualityEsr };
  });
  return { format: RESULTS_FORMAT, version: 1, createdAt, config, limits, counts, cells };
}

// ---------------------------------------------------------------------------------------------------------
// Tables: effect x material pairings (rows or sections) by architecture (columns).

/** How a test ESR reads: below the quality threshold, below 10x it, above, or no better than doing nothing. */
export type Grade = "excellent" | "good" | "poor" | "worse";

export function grade(esr: number, identityEsr: number | null, qualityEsr: number): Grade {
  if (!Number.isFinite(esr) || (identityEsr !== null && esr >= identityEsr)) return "worse";
  if (esr < qualityEsr) return "excellent";
  if (esr < 10 * qualityEsr) return "good";
  return "poor";
}

export const GRADE_MARKS: Record<Grade, string> = { excellent: "●", good: "◐", poor: "○", worse: "✗" };

export function gradeLegend(qualityEsr: number): Record<Grade, string> {
  return {
    excellent: `test ESR < ${formatEsr(qualityEsr)}`,
    good: `test ESR < ${formatEsr(10 * qualityEsr)}`,
    poor: `test ESR >= ${formatEsr(10 * qualityEsr)}, better than passing the input through`,
    worse: "no better than passing the input through (identity)",
  };
}

/** The cells of one architecture in one pairing, over seeds. */
export interface Aggregate {
  architecture: string;
  cells: ResultsCell[];
  done: number;
  /** Median over the done seeds (null when none is done). */
  testEsr: number | null;
  testEsrMin: number | null;
  testEsrMax: number | null;
  validationEsr: number | null;
  epochs: number | null;
  trainingSeconds: number | null;
  /** Median time-to-quality over the seeds that reached it, and how many did. */
  timeToQualitySeconds: number | null;
  reachedQuality: number;
  parameters: number | null;
  realTimeFactor: number | null;
  grade: Grade | null;
  /** Why cells were skipped or failed (distinct messages). */
  notes: { status: "failed" | "skipped" | "pending"; seeds: number[]; reason: string }[];
}

export interface Pairing {
  effect: string;
  train: string;
  test: string;
  /** "lowpass: sweeps → piano" */
  label: string;
  /** The effect's description from the config. */
  description: string;
  chain: string | null;
  /** Identity test ESR (the same for every architecture: it depends only on the test material). */
  identityEsr: number | null;
  architectures: Aggregate[];
}

/** Groups the cells by effect x training x test material, in grid order, one aggregate per architecture. */
export function pairings(results: ResultsFile): Pairing[] {
  const byKey = new Map<string, Pairing>();
  for (const cell of results.cells) {
    const key = `${cell.effect}\u0000${cell.train}\u0000${cell.test}`;
    let pairing = byKey.get(key);
    if (!pairing) {
      pairing = {
        effect: cell.effect,
        train: cell.train,
        test: cell.test,
        label: `${cell.effect}: ${cell.train} → ${cell.test}`,
        description: results.config.effects.find((effect) => effect.name === cell.effect)?.description ?? "",
        chain: null,
        identityEsr: null,
        architectures: results.config.architectures.map((architecture) => emptyAggregate(architecture.name)),
      };
      byKey.set(key, pairing);
    }
    if (cell.status !== "pending") {
      pairing.chain ??= cell.chain;
      if (cell.identityEsr !== null) pairing.identityEsr ??= cell.identityEsr;
    }
    pairing.architectures.find((a) => a.architecture === cell.architecture)?.cells.push(cell);
  }
  const list = [...byKey.values()];
  for (const pairing of list) {
    pairing.architectures = pairing.architectures.map((aggregate) =>
      aggregateCells(aggregate.architecture, aggregate.cells, pairing.identityEsr, results.config.qualityEsr),
    );
  }
  return list;
}

function emptyAggregate(architecture: string): Aggregate {
  return aggregateCells(architecture, [], null, 0.01);
}

function aggregateCells(
  architecture: string,
  cells: ResultsCell[],
  identityEsr: number | null,
  qualityEsr: number,
): Aggregate {
  const done = cells.filter((cell): cell is CellRecord => cell.status === "done");
  const values = (pick: (cell: CellRecord) => number | null | undefined) =>
    done.map(pick).filter((value): value is number => typeof value === "number" && !Number.isNaN(value));
  const esr = values((cell) => cell.testEsr);
  const ttq = values((cell) => cell.timeToQualitySeconds);
  const testEsr = median(esr);
  const notes: Aggregate["notes"] = [];
  for (const cell of cells) {
    if (cell.status === "done") continue;
    const reason = cell.status === "pending" ? "not run yet" : (cell.reason ?? cell.status);
    const note = notes.find((n) => n.status === cell.status && n.reason === reason);
    if (note) note.seeds.push(cell.seed);
    else notes.push({ status: cell.status, seeds: [cell.seed], reason });
  }
  return {
    architecture,
    cells,
    done: done.length,
    testEsr,
    testEsrMin: esr.length > 0 ? Math.min(...esr) : null,
    testEsrMax: esr.length > 0 ? Math.max(...esr) : null,
    validationEsr: median(values((cell) => cell.training?.validationEsr)),
    epochs: median(values((cell) => cell.training?.epochs)),
    trainingSeconds: median(values((cell) => cell.training?.trainingSeconds)),
    timeToQualitySeconds: median(ttq),
    reachedQuality: ttq.length,
    parameters: median(values((cell) => cell.training?.parameters)),
    realTimeFactor: median(values((cell) => cell.realTimeFactor)),
    grade: testEsr === null ? null : grade(testEsr, identityEsr, qualityEsr),
    notes,
  };
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

// ---------------------------------------------------------------------------------------------------------
// Number formats shared by the writers.

/** 0.0857, 0.00123, 1.20e-5; "∞" and "–" for infinite and missing values. */
export function formatEsr(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (!Number.isFinite(value)) return "∞";
  if (value === 0) return "0";
  if (Math.abs(value) >= 1e-3 && Math.abs(value) < 1e4) return Number(value.toPrecision(3)).toString();
  return value.toExponential(2);
}

/** "12.3 s", "4 min 05 s", "1 h 02 min". */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : seconds.toFixed(0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.round(seconds - minutes * 60)).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return Math.round(value).toLocaleString("en-US");
}

export function formatFactor(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value >= 0.01 ? value.toFixed(3) : value.toExponential(1);
}

/** Time-to-quality of an aggregate: "12 s", "never" when no done seed reached it, "12 s (2/3)" over seeds. */
export function formatTimeToQuality(aggregate: Aggregate): string {
  if (aggregate.done === 0) return "–";
  if (aggregate.reachedQuality === 0) return "never";
  const time = formatSeconds(aggregate.timeToQualitySeconds);
  return aggregate.done > 1 ? `${time} (${aggregate.reachedQuality}/${aggregate.done})` : time;
}

/** The test ESR of an aggregate, with the range over seeds when there are several. */
export function formatAggregateEsr(aggregate: Aggregate): string {
  if (aggregate.testEsr === null) return "–";
  const value = formatEsr(aggregate.testEsr);
  if (aggregate.done < 2) return value;
  return `${value} (${formatEsr(aggregate.testEsrMin)}–${formatEsr(aggregate.testEsrMax)}, ${aggregate.done} seeds)`;
}

/** A history point list, for callers that only have records. */
export type { HistoryPoint };
