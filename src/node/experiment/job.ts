import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DeepspError, ToolError } from "../../core/errors.ts";
import { type TrainingSummary, testCell, timeToQuality, trainCell } from "../../experiment/cell.ts";
import {
  type CellSpec,
  mergedOverrides,
  type RunLimits,
  type TrainingSpec,
  trainingParts,
} from "../../experiment/grid.ts";
import { type CellRecord, type CellStatus, unmeasuredCell } from "../../experiment/results.ts";
import type { Model } from "../../nn/models/model.ts";
import { readModelFile, writeModelFile } from "../model-files.ts";
import { canonicalChain, type ExperimentData, SkipError } from "./load.ts";

/**
 * One job of the study runner: one training (effect x training material x architecture x seed) and the
 * cells it is scored on (its test materials). Checks first that the material, effect and recordings are
 * available (else the cells are "skipped" with the reason), trains (or reuses the model file a previous run
 * left for the same fingerprint), saves the model, then tests it on each test material. Every outcome is a
 * CellRecord handed to `emit`; a failure becomes a "failed" record with the error's message, never a throw.
 */
export interface JobRequest {
  training: TrainingSpec;
  /** The cells of this training still to do, with their fingerprints. */
  cells: { spec: CellSpec; fingerprint: string }[];
  trainingFingerprint: string;
  /** Folder for models/<trainingId>.json. */
  outDir: string;
  /** Reuse a saved model with the same fingerprint (false with --force). */
  reuseModel: boolean;
}

export interface JobProgress {
  trainingId: string;
  epoch: number;
  epochs: number;
  validationEsr: number;
  seconds: number;
}

export async function runJob(
  request: JobRequest,
  data: ExperimentData,
  limits: RunLimits,
  emit: (record: CellRecord) => void,
  options: { signal?: AbortSignal; onProgress?: (progress: JobProgress) => void } = {},
): Promise<void> {
  const { training } = request;
  const config = data.config;
  const { effect, architecture } = trainingParts(config, training);
  const jobStarted = Date.now();
  let chain: string | null = null;
  const record = (
    cell: { spec: CellSpec; fingerprint: string },
    status: CellStatus,
    fields: Partial<CellRecord> = {},
  ): CellRecord => ({
    ...unmeasuredCell({
      ...cell.spec,
      experiment: config.name,
      status,
      reason: null,
      chain,
      preset: architecture.preset,
      fingerprint: cell.fingerprint,
      limits,
      qualityEsr: config.qualityEsr,
      startedAt: new Date(jobStarted).toISOString(),
      finishedAt: new Date().toISOString(),
      wallSeconds: (Date.now() - jobStarted) / 1000,
    }),
    ...fields,
  });
  const finishAll = (cells: JobRequest["cells"], error: unknown, extra: Partial<CellRecord> = {}) => {
    const { status, reason } = outcome(error);
    for (const cell of cells) emit(record(cell, status, { reason, ...extra }));
  };

  try {
    chain = canonicalChain(effect);
  } catch (error) {
    finishAll(request.cells, error);
    return;
  }

  // 1. Availability, before any work.
  const trainReason = await data
    .unavailable(effect, "train", training.train)
    .catch((error) => messageOf(error));
  if (trainReason) {
    finishAll(request.cells, new SkipError(trainReason));
    return;
  }
  const runnable: JobRequest["cells"] = [];
  for (const cell of request.cells) {
    const reason = await data.unavailable(effect, "test", cell.spec.test).catch((error) => messageOf(error));
    if (reason) emit(record(cell, "skipped", { reason }));
    else runnable.push(cell);
  }
  if (runnable.length === 0) return;

  // 2. The model: a saved one with the same fingerprint, or trained now.
  const modelRelative = join("models", `${training.id}.json`);
  const modelPath = join(request.outDir, modelRelative);
  let model: Model;
  let summary: TrainingSummary;
  const warnings: string[] = [];
  try {
    const reused = request.reuseModel ? await savedModel(modelPath, request.trainingFingerprint) : null;
    if (reused) {
      ({ model, summary } = reused);
    } else {
      const loaded = await data.trainingParts(effect, training.train);
      warnings.push(...loaded.warnings);
      let validationEsr = Number.NaN;
      let elapsed = 0;
      const trained = await trainCell({
        preset: architecture.preset,
        overrides: mergedOverrides(config, architecture),
        parts: loaded.parts,
        seed: training.seed,
        epochs: limits.epochs,
        seconds: limits.seconds,
        patience: limits.patience,
        ...(options.signal ? { signal: options.signal } : {}),
        onEvent: (event) => {
          if (event.type === "validation") validationEsr = event.esr;
          if (event.type === "epoch-end") {
            elapsed += event.seconds;
            options.onProgress?.({
              trainingId: training.id,
              epoch: event.epoch,
              epochs: limits.epochs,
              validationEsr,
              seconds: elapsed,
            });
          }
        },
      });
      if (options.signal?.aborted) return; // shutting down: write nothing
      ({ model, summary } = trained);
      if (summary.epochs === 0) {
        warnings.push(
          `the budget (${limits.seconds} s) ended inside the first epoch: the model is untrained (raise budget.seconds)`,
        );
      }
      await mkdir(join(request.outDir, "models"), { recursive: true });
      await writeModelFile(
        modelPath,
        {
          model,
          sampleRate: loaded.parts[0]!.pair.input.sampleRate,
          metadata: {
            name: training.id,
            training: {
              data: { effect: chain ?? `${effect.name} (recorded)`, material: training.train },
              epochs: summary.epochs,
              ...(summary.bestEpoch === null ? {} : { bestEpoch: summary.bestEpoch }),
              trainingSeconds: summary.trainingSeconds,
              seed: training.seed,
              learningRate: summary.settings.learningRate,
              preset: architecture.preset,
            },
            metrics: summary.validationEsr === null ? {} : { validationEsr: summary.validationEsr },
            experiment: { name: config.name, fingerprint: request.trainingFingerprint, summary },
          },
        },
        { overwrite: true },
      );
    }
  } catch (error) {
    if (options.signal?.aborted) return;
    finishAll(runnable, error, { warnings });
    return;
  }

  // 3. Each test material.
  for (const cell of runnable) {
    if (options.signal?.aborted) return;
    const cellStarted = Date.now();
    try {
      const test = await data.testPair(effect, cell.spec.test);
      const score = testCell(model, test.pair);
      const { comparison } = score;
      emit(
        record(cell, "done", {
          training: summary,
          timeToQualitySeconds: timeToQuality(
            summary.history,
            summary.initialValidationEsr,
            config.qualityEsr,
          ),
          metrics: comparison,
          testEsr: comparison.model.esr,
          identityEsr: comparison.identity.esr,
          realTimeFactor: score.realTimeFactor,
          testSeconds: score.seconds,
          sampleRate: test.pair.input.sampleRate,
          model: modelRelative,
          warnings: [...warnings, ...test.warnings],
          wallSeconds: (Date.now() - jobStarted) / 1000,
        }),
      );
    } catch (error) {
      const { status, reason } = outcome(error);
      emit(
        record(cell, status, {
          reason,
          training: summary,
          model: modelRelative,
          warnings,
          wallSeconds: (Date.now() - cellStarted) / 1000,
        }),
      );
    }
  }
}

/** A model file this training wrote before, if its fingerprint matches (else null: train again). */
async function savedModel(
  path: string,
  fingerprint: string,
): Promise<{ model: Model; summary: TrainingSummary } | null> {
  if (!existsSync(path)) return null;
  try {
    const file = await readModelFile(path);
    const experiment = file.metadata["experiment"] as
      | { fingerprint?: string; summary?: TrainingSummary }
      | undefined;
    if (experiment?.fingerprint !== fingerprint || !experiment.summary) return null;
    return { model: file.model, summary: experiment.summary };
  } catch {
    return null; // damaged or from another version: train again
  }
}

/** Missing programs and recordings skip a cell; anything else fails it. */
function outcome(error: unknown): { status: "skipped" | "failed"; reason: string } {
  if (error instanceof SkipError) return { status: "skipped", reason: error.message };
  if (error instanceof ToolError && error.code === "tool/missing")
    return { status: "skipped", reason: error.message };
  if (error instanceof DeepspError) return { status: "failed", reason: `${error.code}: ${error.message}` };
  const message = messageOf(error);
  const stack =
    error instanceof Error && error.stack ? ` (${error.stack.split("\n").slice(1, 3).join(" ").trim()})` : "";
  return { status: "failed", reason: `internal error: ${message}${stack}` };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
