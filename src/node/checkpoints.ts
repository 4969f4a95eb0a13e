import { existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from "../train/checkpoint.ts";
import { readFileBytes, writeFileAtomic } from "./files.ts";

/**
 * Checkpoint files in a run folder: `checkpoint-last.json` (after every epoch) and `checkpoint-best.json`
 * (after every epoch that improved the validation ESR). Each is written to a temporary file
 * `.<name>.<random>.tmp` in the same folder and renamed over the old one, so a process killed at any
 * moment (SIGKILL included) leaves either the previous complete file or the new complete file, plus at
 * most a stray temporary file that `removeTemporaryFiles` deletes and readers ignore.
 */
export const CHECKPOINT_FILES = { last: "checkpoint-last.json", best: "checkpoint-best.json" } as const;

export type CheckpointKind = keyof typeof CHECKPOINT_FILES;

/** The path of a run's checkpoint of that kind. */
export function checkpointPath(runDir: string, kind: CheckpointKind): string {
  return join(runDir, CHECKPOINT_FILES[kind]);
}

/** Writes a checkpoint atomically as `<runDir>/checkpoint-<kind>.json` (creating the folder); returns the path. */
export async function writeCheckpoint(runDir: string, checkpoint: Checkpoint): Promise<string> {
  await mkdir(runDir, { recursive: true });
  const path = checkpointPath(runDir, checkpoint.kind);
  await writeFileAtomic(path, encodeCheckpoint(checkpoint), { overwrite: true });
  return path;
}

/** A `saveCheckpoint` callback for `train()` that writes into `runDir`. */
export function checkpointSaver(runDir: string): (checkpoint: Checkpoint) => Promise<void> {
  return async (checkpoint) => {
    await writeCheckpoint(runDir, checkpoint);
  };
}

/**
 * Reads and validates a checkpoint file. Errors: FileError (missing, unreadable) or CheckpointError naming
 * the file and the field ("runs/a/checkpoint-last.json: optimizer.m.hash: does not match the data").
 */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  return decodeCheckpoint(await readFileBytes(path), path);
}

/** Reads `<runDir>/checkpoint-<kind>.json`, or returns null when the run has none of that kind. */
export async function readRunCheckpoint(
  runDir: string,
  kind: CheckpointKind = "last",
): Promise<Checkpoint | null> {
  const path = checkpointPath(runDir, kind);
  if (!existsSync(path)) return null;
  return readCheckpoint(path);
}

const TEMPORARY = /^\.checkpoint-(last|best)\.json\.[0-9a-f]+\.tmp$/;

/** Whether a file name is a checkpoint's temporary file (left behind only by a killed process). */
export function isTemporaryCheckpointFile(name: string): boolean {
  return TEMPORARY.test(name);
}

/** Deletes stray checkpoint temporary files in `runDir` (call before resuming); returns their names. */
export async function removeTemporaryFiles(runDir: string): Promise<string[]> {
  if (!existsSync(runDir)) return [];
  const names = (await readdir(runDir)).filter(isTemporaryCheckpointFile);
  await Promise.all(names.map((name) => rm(join(runDir, name), { force: true })));
  return names;
}
