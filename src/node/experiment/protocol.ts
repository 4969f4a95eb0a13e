import type { RunLimits } from "../../experiment/grid.ts";
import type { CellRecord } from "../../experiment/results.ts";
import type { JobProgress, JobRequest } from "./job.ts";
import type { LoadedConfig } from "./load.ts";

/**
 * Messages between the study runner and its worker processes (Node's IPC channel, JSON). A worker gets
 * "init" once, then one "job" at a time; it streams "progress" and one "cell" per finished cell, then
 * "job-done". It exits on "exit", and by itself when the channel closes (the runner died).
 */
export type ToWorker =
  | { type: "init"; loaded: LoadedConfig; limits: RunLimits }
  | { type: "job"; request: JobRequest }
  | { type: "exit" };

export type FromWorker =
  | { type: "ready" }
  | { type: "progress"; progress: JobProgress }
  | { type: "cell"; record: CellRecord }
  | { type: "job-done"; trainingId: string };
