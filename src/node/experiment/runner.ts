import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OptionError } from "../../core/errors.ts";
import type { ExperimentConfig } from "../../experiment/config.ts";
import {
  type CellSpec,
  cellFingerprint,
  expandGrid,
  matchesGlob,
  type RunLimits,
  type TrainingSpec,
  trainingFingerprint,
} from "../../experiment/grid.ts";
import { summaryHtml } from "../../experiment/html.ts";
import { resultsMarkdown } from "../../experiment/markdown.ts";
import {
  buildResults,
  CELL_FORMAT,
  type CellRecord,
  formatEsr,
  formatSeconds,
  type ResultsFile,
  unmeasuredCell,
} from "../../experiment/results.ts";
import { writeFileAtomic, writeJsonFile } from "../files.ts";
import type { JobProgress, JobRequest } from "./job.ts";
import { type LoadedConfig, loadConfigFile, readJsonIfValid } from "./load.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

/**
 * The study runner behind `deepsp experiment`: expands the config's grid, skips the cells whose file
 * already exists with the same fingerprint (resume), runs the rest as jobs (one training and its test
 * cells) on a pool of worker processes, writes each cell's file atomically as its record arrives, and
 * finally results.json, results.md and summary.html for the whole grid.
 *
 * Output folder:
 *   cells/<cell-id>.json    one CellRecord per cell (done, failed or skipped), written atomically
 *   models/<training>.json  the trained model (deepsp model file; reused on resume for missing test cells)
 *   results.json            the config and every cell of the grid ("pending" where no file exists yet)
 *   results.md              a table per effect x material pairing, architectures as columns
 *   summary.html            self-contained: heatmap of test ESR, time to quality, sizes, real-time factors
 */
export interface ExperimentOptions {
  configPath: string;
  outDir: string;
  /** Worker processes (default: os.availableParallelism()). */
  workers?: number;
  /** Quick runs: lower the config's budget and cut the material. */
  maxEpochs?: number;
  maxSeconds?: number;
  materialSeconds?: number;
  /** Comma-separated globs over cell ids: run only these (results.json still lists the whole grid). */
  only?: string;
  /** Redo cells (and retrain models) that are already finished. */
  force?: boolean;
  /** Stops the run: workers stop at their next batch, nothing partial is written, the summaries are. */
  signal?: AbortSignal;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Also log every epoch. */
  verbose?: boolean;
}

export interface ExperimentRun {
  results: ResultsFile;
  /** Cells run (or attempted) in this call. */
  ran: number;
  /** Selected cells found finished and skipped. */
  alreadyFinished: number;
  stopped: boolean;
  paths: { results: string; markdown: string; html: string; cells: string };
}

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));

export async function runExperiment(options: ExperimentOptions): Promise<ExperimentRun> {
  const log = options.log ?? (() => {});
  const loaded = await loadConfigFile(options.configPath);
  const { config } = loaded;
  const limits = runLimits(config, options);
  const { trainings, cells: grid } = expandGrid(config);
  const cellsDir = join(options.outDir, "cells");
  await mkdir(cellsDir, { recursive: true });
  await removeTemporaries(cellsDir);
  await removeTemporaries(join(options.outDir, "models"));

  // Fingerprints, existing records, and what this run has to do.
  const trainingPrints = new Map(trainings.map((t) => [t.id, trainingFingerprint(config, t, limits)]));
  const cellPrints = new Map(
    grid.map((cell) => [
      cell.id,
      cellFingerprint(config, cell, limits, trainingPrints.get(cell.trainingId)!),
    ]),
  );
  const records = new Map<string, CellRecord>();
  const stale = new Set<string>();
  for (const cell of grid) {
    const record = await readCellRecord(join(cellsDir, `${cell.id}.json`), cell.id);
    if (!record) continue;
    if (record.fingerprint === cellPrints.get(cell.id)) records.set(cell.id, record);
    else stale.add(cell.id);
  }
  const selected = grid.filter((cell) => options.only === undefined || matchesGlob(options.only, cell.id));
  if (options.only !== undefined && selected.length === 0) {
    throw new OptionError(
      "experiment/only",
      `--only "${options.only}" matches none of the ${grid.length} cells (ids look like ${grid[0]?.id ?? "effect.train.test.architecture.s1"})`,
    );
  }
  const todo = selected.filter((cell) => options.force === true || !records.has(cell.id));
  const finished = selected.length - todo.length;
  const staleSelected = todo.filter((cell) => stale.has(cell.id)).length;
  // Stale records stay out of the results until they are redone.

  log(
    `${config.name}: ${grid.length} cells (${trainings.length} trainings), ${selected.length} selected; ` +
      `budget per training ${limits.epochs} epochs or ${formatSeconds(limits.seconds)}` +
      (limits.materialSeconds === null ? "" : `, material cut to ${limits.materialSeconds} s`),
  );
  if (finished > 0) {
    const kinds = countStatuses(selected.map((cell) => records.get(cell.id)).filter((r) => r !== undefined));
    log(`${finished} cell(s) already finished (${kinds}): skipping them (--force redoes them)`);
  }
  if (staleSelected > 0)
    log(`${staleSelected} cell(s) were made with other settings or config: redoing them`);

  const jobs = makeJobs(trainings, todo, cellPrints, trainingPrints, options, config);
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), jobs.length));
  let done = 0;
  const total = todo.length;
  let stopped = false;
  if (jobs.length > 0) {
    log(`running ${total} cell(s) in ${jobs.length} training(s) on ${workers} worker(s)`);
    stopped = await runPool({
      jobs,
      workers,
      loaded,
      limits,
      ...(options.signal ? { signal: options.signal } : {}),
      onRecord: async (record) => {
        await writeJsonFile(join(cellsDir, `${record.id}.json`), record, { overwrite: true });
        records.set(record.id, record);
        done++;
        log(`[${done}/${total}] ${describeRecord(record)}`);
      },
      onProgress: (progress) => {
        if (options.verbose) {
          log(
            `  ${progress.trainingId}: epoch ${progress.epoch}/${progress.epochs}, validation ESR ` +
              `${formatEsr(progress.validationEsr)}, ${formatSeconds(progress.seconds)}`,
          );
        }
      },
    });
  }

  const results = buildResults(config, grid, records, limits);
  const paths = {
    results: join(options.outDir, "results.json"),
    markdown: join(options.outDir, "results.md"),
    html: join(options.outDir, "summary.html"),
    cells: cellsDir,
  };
  await writeJsonFile(paths.results, results, { overwrite: true });
  await writeFileAtomic(paths.markdown, resultsMarkdown(results), { overwrite: true });
  await writeFileAtomic(paths.html, summaryHtml(results), { overwrite: true });
  return { results, ran: done, alreadyFinished: finished, stopped, paths };
}

/** The config's budget, lowered by the quick-run flags (never raised). */
export function runLimits(
  config: ExperimentConfig,
  options: Pick<ExperimentOptions, "maxEpochs" | "maxSeconds" | "materialSeconds">,
): RunLimits {
  const check = (value: number | undefined, flag: string, integer: boolean) => {
    if (value === undefined) return;
    if (!(value > 0) || (integer && !Number.isInteger(value))) {
      throw new OptionError(
        "options/invalid",
        `${flag} must be a ${integer ? "whole " : ""}number > 0, got ${value}`,
      );
    }
  };
  check(options.maxEpochs, "--max-epochs", true);
  check(options.maxSeconds, "--max-seconds", false);
  check(options.materialSeconds, "--material-seconds", false);
  return {
    epochs: Math.min(config.budget.epochs, options.maxEpochs ?? Number.POSITIVE_INFINITY),
    seconds: Math.min(config.budget.seconds, options.maxSeconds ?? Number.POSITIVE_INFINITY),
    patience: config.budget.patience,
    materialSeconds: options.materialSeconds ?? null,
  };
}

function makeJobs(
  trainings: readonly TrainingSpec[],
  todo: readonly CellSpec[],
  cellPrints: ReadonlyMap<string, string>,
  trainingPrints: ReadonlyMap<string, string>,
  options: ExperimentOptions,
  _config: ExperimentConfig,
): JobRequest[] {
  const wanted = new Set(todo.map((cell) => cell.id));
  return trainings
    .map((training) => ({
      training,
      cells: training.cells
        .filter((cell) => wanted.has(cell.id))
        .map((spec) => ({ spec, fingerprint: cellPrints.get(spec.id)! })),
      trainingFingerprint: trainingPrints.get(training.id)!,
      outDir: options.outDir,
      reuseModel: options.force !== true,
    }))
    .filter((job) => job.cells.length > 0);
}

async function readCellRecord(path: string, id: string): Promise<CellRecord | null> {
  if (!existsSync(path)) return null;
  const value = (await readJsonIfValid(path)) as Partial<CellRecord> | undefined;
  if (value?.format !== CELL_FORMAT || value.id !== id || typeof value.fingerprint !== "string") return null;
  return value as CellRecord;
}

/** Temporary files an atomic write left behind when its process was killed (`.<name>.<hex>.tmp`). */
async function removeTemporaries(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir)) {
    if (name.startsWith(".") && name.endsWith(".tmp")) await rm(join(dir, name), { force: true });
  }
}

function countStatuses(records: readonly CellRecord[]): string {
  const counts = new Map<string, number>();
  for (const record of records) counts.set(record.status, (counts.get(record.status) ?? 0) + 1);
  return [...counts].map(([status, count]) => `${count} ${status}`).join(", ");
}

function describeRecord(record: CellRecord): string {
  if (record.status !== "done") return `${record.status} ${record.id}: ${record.reason}`;
  const training = record.training!;
  return (
    `done ${record.id}: test ESR ${formatEsr(record.testEsr)} (identity ${formatEsr(record.identityEsr)}), ` +
    `${training.epochs} epoch(s) in ${formatSeconds(training.trainingSeconds)}, validation ESR ${formatEsr(training.validationEsr)}`
  );
}

// ---------------------------------------------------------------------------------------------------------
// The worker pool.

interface PoolOptions {
  jobs: JobRequest[];
  workers: number;
  loaded: LoadedConfig;
  limits: RunLimits;
  signal?: AbortSignal;
  onRecord: (record: CellRecord) => Promise<void>;
  onProgress: (progress: JobProgress) => void;
}

/** Runs the jobs, one per worker at a time. Returns true when stopped by the signal. */
async function runPool(options: PoolOptions): Promise<boolean> {
  const queue = [...options.jobs];
  const children = new Set<ChildProcess>();
  let stopping = options.signal?.aborted === true;
  let writes: Promise<void> = Promise.resolve();
  const record = (value: CellRecord) => {
    // Files are written one at a time, in arrival order; a failed write fails the run.
    writes = writes.then(() => options.onRecord(value));
    return writes;
  };
  const onAbort = () => {
    stopping = true;
    for (const child of children) {
      if (child.connected) child.send({ type: "exit" } satisfies ToWorker);
    }
  };
  options.signal?.addEventListener("abort", onAbort);

  const slot = async (): Promise<void> => {
    let child: ChildProcess | null = null;
    try {
      while (queue.length > 0 && !stopping) {
        if (!child || child.exitCode !== null || child.signalCode !== null || !child.connected) {
          child = await startWorker(options.loaded, options.limits);
          children.add(child);
        }
        const job = queue.shift()!;
        const pending = new Set(job.cells.map((cell) => cell.spec.id));
        const outcome = await runOnWorker(
          child,
          job,
          (value) => {
            pending.delete(value.id);
            void record(value);
          },
          options.onProgress,
        );
        if (outcome.exited && !stopping) {
          // The worker died in the middle of the job (out of memory, a crash): its remaining cells fail.
          const now = new Date().toISOString();
          for (const cell of job.cells.filter((c) => pending.has(c.spec.id))) {
            void record(crashRecord(job, cell, outcome.reason, options, now));
          }
          children.delete(child);
          child = null;
        }
      }
    } finally {
      if (child) {
        children.delete(child);
        await stopWorker(child);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.workers }, slot));
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    for (const child of children) await stopWorker(child);
  }
  await writes;
  return stopping;
}

async function startWorker(loaded: LoadedConfig, limits: RunLimits): Promise<ChildProcess> {
  const child = fork(WORKER, [], {
    execArgv: ["--import", import.meta.resolve("tsx")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type !== "ready") return;
      cleanup();
      resolve();
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(
        new OptionError(
          "experiment/worker",
          `a worker process exited while starting (code ${code}, signal ${signal})`,
        ),
      );
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
    child.send({ type: "init", loaded, limits } satisfies ToWorker);
  });
  return child;
}

function runOnWorker(
  child: ChildProcess,
  job: JobRequest,
  onRecord: (record: CellRecord) => void,
  onProgress: (progress: JobProgress) => void,
): Promise<{ exited: boolean; reason: string }> {
  return new Promise((resolve) => {
    const onMessage = (message: FromWorker) => {
      if (message.type === "cell") onRecord(message.record);
      else if (message.type === "progress") onProgress(message.progress);
      else if (message.type === "job-done" && message.trainingId === job.training.id) {
        cleanup();
        resolve({ exited: false, reason: "" });
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      resolve({
        exited: true,
        reason: `the worker process exited during this cell (${signal ? `signal ${signal}` : `exit code ${code}`})`,
      });
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
    child.send({ type: "job", request: job } satisfies ToWorker);
  });
}

/** Asks a worker to exit; kills it if it has not within 10 s. */
async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (child.connected) child.send({ type: "exit" } satisfies ToWorker);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function crashRecord(
  job: JobRequest,
  cell: JobRequest["cells"][number],
  reason: string,
  options: PoolOptions,
  now: string,
): CellRecord {
  return unmeasuredCell({
    ...cell.spec,
    experiment: options.loaded.config.name,
    status: "failed",
    reason,
    chain: null,
    preset:
      options.loaded.config.architectures.find((a) => a.name === job.training.architecture)?.preset ?? "",
    fingerprint: cell.fingerprint,
    limits: options.limits,
    qualityEsr: options.loaded.config.qualityEsr,
    startedAt: now,
    finishedAt: now,
    wallSeconds: 0,
  });
}
