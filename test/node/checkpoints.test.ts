import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  checkpointPath,
  isTemporaryCheckpointFile,
  readCheckpoint,
  readRunCheckpoint,
  removeTemporaryFiles,
  writeCheckpoint,
} from "../../src/node/checkpoints.ts";
import { withTempDir } from "../../src/node/tools.ts";
import { CheckpointError, checkpointToJson } from "../../src/train/checkpoint.ts";
import { runKillTestTraining } from "../fixtures/train-child.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHILD = fileURLToPath(new URL("../fixtures/train-child.ts", import.meta.url));

async function rejectsCheckpoint(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

test("checkpoints round-trip bit-exactly through their files, non-finite numbers included", async () => {
  await withTempDir(async (dir) => {
    const { result } = await runKillTestTraining(dir, 2, () => {});
    assert.equal(result.epochsRun, 2);
    const last = (await readRunCheckpoint(dir, "last"))!;
    const best = (await readRunCheckpoint(dir, "best"))!;
    assert.equal(last.kind, "last");
    assert.equal(last.epochsCompleted, 2);
    assert.equal(best.kind, "best");
    assert.equal(best.epochsCompleted, best.best!.epoch);
    assert.equal(last.schedule.best, Number.POSITIVE_INFINITY);
    // Writing what was read gives the same bytes back.
    const text = await readFile(checkpointPath(dir, "last"), "utf8");
    assert.equal(checkpointToJson(last), text);
    // A re-written checkpoint reads back equal, typed arrays bit for bit.
    const other = join(dir, "copy");
    await writeCheckpoint(other, { ...last, kind: "best" });
    const copy = (await readRunCheckpoint(other, "best"))!;
    assert.deepEqual({ ...copy, kind: "last" }, last);
    assert.ok(copy.model.parameters instanceof Float32Array);
    assert.equal(await readRunCheckpoint(join(dir, "missing"), "last"), null);
  });
});

test("a damaged or incompatible checkpoint is refused with the file and field named", async () => {
  await withTempDir(async (dir) => {
    await runKillTestTraining(dir, 1);
    const path = checkpointPath(dir, "last");
    const good = await readFile(path, "utf8");
    const json = JSON.parse(good);
    const write = (text: string) => writeFile(path, text);
    const edit = async (change: (file: typeof json) => void) => {
      const copy = structuredClone(json);
      change(copy);
      await write(JSON.stringify(copy));
    };

    await write(good.slice(0, good.length / 2));
    await rejectsCheckpoint(
      readCheckpoint(path),
      "checkpoint/invalid",
      /checkpoint-last\.json: is not valid JSON/,
    );
    await write("{}");
    await rejectsCheckpoint(
      readCheckpoint(path),
      "checkpoint/invalid",
      /checkpoint-last\.json: format: expected "deepsp-checkpoint"/,
    );
    await edit((file) => {
      file.version = 99;
    });
    await rejectsCheckpoint(
      readCheckpoint(path),
      "checkpoint/version",
      /reads checkpoint version 1, the file has 99/,
    );
    await edit((file) => {
      const text: string = file.optimizer.m.base64;
      file.optimizer.m.base64 = (text[0] === "A" ? "B" : "A") + text.slice(1);
    });
    await rejectsCheckpoint(
      readCheckpoint(path),
      "checkpoint/invalid",
      /optimizer\.m\.hash: does not match the data/,
    );
    await edit((file) => {
      file.model.parameters.base64 = file.model.parameters.base64.slice(4);
    });
    await rejectsCheckpoint(
      readCheckpoint(path),
      "checkpoint/invalid",
      /model\.parameters\.base64: holds \d+ bytes/,
    );
    await edit((file) => {
      delete file.schedule.learningRate;
    });
    await rejectsCheckpoint(
      readCheckpoint(path),
      "checkpoint/invalid",
      /checkpoint-last\.json: schedule\.learningRate:/,
    );
    await edit((file) => {
      file.settings.batchSize = 0;
    });
    await rejectsCheckpoint(readCheckpoint(path), "checkpoint/invalid", /settings\.batchSize: Too small/i);
    await edit((file) => {
      file.history = [];
    });
    await rejectsCheckpoint(
      readCheckpoint(path),
      "checkpoint/invalid",
      /history: has 0 epochs, epochsCompleted says 1/,
    );
    await write(good);
    assert.equal((await readCheckpoint(path)).epochsCompleted, 1);
  });
});

test("stray temporary files are recognised and removed", async () => {
  await withTempDir(async (dir) => {
    const stray = ".checkpoint-last.json.0a1b2c3d4e5f.tmp";
    await writeFile(join(dir, stray), "{ partial");
    await writeFile(join(dir, "notes.txt"), "mine");
    assert.ok(isTemporaryCheckpointFile(stray));
    assert.ok(!isTemporaryCheckpointFile("checkpoint-last.json"));
    assert.deepEqual(await removeTemporaryFiles(dir), [stray]);
    assert.deepEqual((await readdir(dir)).sort(), ["notes.txt"]);
  });
});

interface Child {
  killed: Promise<void>;
  lines: string[];
}

/** Starts the training child; SIGKILLs it `delayMs` after it prints its first checkpoint (or after start). */
function startAndKill(runDir: string, epochs: number, delayMs: number, afterCheckpoint: boolean): Child {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, runDir, String(epochs)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer ??= setTimeout(() => child.kill("SIGKILL"), delayMs);
  };
  if (!afterCheckpoint) arm();
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    lines.push(...chunk.split("\n").filter(Boolean));
    if (afterCheckpoint && lines.some((line) => line.startsWith("checkpoint"))) arm();
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const killed = new Promise<void>((resolve, reject) => {
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL" || code === 0) resolve();
      else reject(new Error(`child exited with ${code ?? signal}: ${stderr}`));
    });
  });
  return { killed, lines };
}

/** Every file in the run folder is a valid checkpoint or an ignorable temporary file. */
async function checkFolder(runDir: string, what: string): Promise<number> {
  let epochs = 0;
  for (const name of await readdir(runDir)) {
    if (isTemporaryCheckpointFile(name)) continue;
    assert.ok(
      name === "checkpoint-last.json" || name === "checkpoint-best.json",
      `${what}: unexpected file ${name}`,
    );
    const checkpoint = await readCheckpoint(join(runDir, name));
    if (name === "checkpoint-last.json") epochs = checkpoint.epochsCompleted;
  }
  return epochs;
}

test("SIGKILL at random moments never leaves a corrupt checkpoint, and resuming gives the uninterrupted result", async () => {
  const epochs = 150;
  const straight = await withTempDir((dir) => runKillTestTraining(dir, epochs));
  assert.equal(straight.result.epochsRun, epochs);
  await withTempDir(async (runDir) => {
    let completed = 0;
    const rounds: string[] = [];
    for (let round = 0; round < 6; round++) {
      // Mostly at a random moment of training (the child needs ~0.5 s to start); twice while it starts up.
      const afterCheckpoint = round % 3 !== 0;
      const delay = afterCheckpoint ? Math.floor(Math.random() * 400) : 50 + Math.floor(Math.random() * 450);
      const child = startAndKill(runDir, epochs, delay, afterCheckpoint);
      await child.killed;
      const what = `round ${round} (killed ${delay} ms after ${afterCheckpoint ? "its first checkpoint" : "start"})`;
      const temporary = (await readdir(runDir)).filter(isTemporaryCheckpointFile).length;
      const now = await checkFolder(runDir, what);
      rounds.push(
        `${what}: ${child.lines.filter((l) => l.startsWith("checkpoint")).length} checkpoints written, ${temporary} temporary files left`,
      );
      assert.ok(now >= completed, `${what}: checkpoint-last went back from epoch ${completed} to ${now}`);
      completed = now;
      if (child.lines.some((line) => line.startsWith("done"))) break;
    }
    // A last child resumes from whatever is there and finishes.
    const final = startAndKill(runDir, epochs, 60_000, false);
    await final.killed;
    const done = final.lines.find((line) => line.startsWith("done"));
    assert.ok(done, `the final child finished (${rounds.join("; ")})`);
    assert.equal(done, `done ${straight.hash} ${epochs}`, rounds.join("; "));
    assert.equal(await checkFolder(runDir, "final"), epochs);
  });
});
