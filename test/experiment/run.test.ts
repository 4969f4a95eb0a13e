import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CELL_FORMAT, type CellRecord, type ResultsFile } from "../../src/experiment/results.ts";
import { findProgram } from "../../src/node/tools.ts";
import { missingShared } from "../helpers/shared.ts";

/**
 * `deepsp experiment` end to end on the shipped study-seed config at reduced size: two architectures, one
 * epoch or 2 s of training, 2 s of material, two workers. Then a second run resumes (skips everything), and a
 * run killed with SIGKILL leaves only complete cell files and resumes where it stopped.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/deepsp.js");
const CONFIG = join(ROOT, "experiments/study-seed.json");
const dir = mkdtempSync(join(tmpdir(), "deepsp-experiment-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const QUICK = ["--max-epochs", "1", "--max-seconds", "2", "--material-seconds", "2"];

function experiment(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, "experiment", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 180_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function readResults(out: string): ResultsFile {
  return JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ResultsFile;
}

function cellFiles(out: string): { name: string; text: string }[] {
  const cells = join(out, "cells");
  return readdirSync(cells)
    .filter((name) => !name.startsWith("."))
    .map((name) => ({ name, text: readFileSync(join(cells, name), "utf8") }));
}

test("study-seed at reduced size: every cell done or skipped with a reason, summaries written, resumable", async () => {
  const out = join(dir, "seed");
  const only = "*.linear-256.*,*.lstm-16.*";
  const args = ["--config", CONFIG, "--out", out, ...QUICK, "--workers", "2", "--only", only];
  const first = experiment(...args);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /running 8 cell\(s\) in 8 training\(s\) on 2 worker\(s\)/);
  for (const file of ["results.json", "results.md", "summary.html"])
    assert.ok(existsSync(join(out, file)), file);

  const results = readResults(out);
  assert.equal(results.config.name, "study-seed");
  assert.equal(results.cells.length, 20, "results.json lists the whole grid");
  assert.deepEqual(results.limits, { epochs: 1, seconds: 2, patience: null, materialSeconds: 2 });
  const selected = results.cells.filter((cell) => /\.(linear-256|lstm-16)\.s1$/.test(cell.id));
  assert.equal(selected.length, 8);
  for (const cell of results.cells.filter((c) => !selected.includes(c))) assert.equal(cell.status, "pending");
  const paperAbsent = missingShared("deepsp-paper/lowpass/pre/sin.wav") !== false;
  const pianoMissing = (await findProgram({ program: "fluidsynth" })) === undefined;
  for (const cell of selected as CellRecord[]) {
    assert.ok(
      cell.status === "done" || cell.status === "skipped",
      `${cell.id}: ${cell.status} ${cell.reason}`,
    );
    if (cell.status === "skipped") {
      assert.ok(cell.reason && cell.reason.length > 10, `${cell.id} says why it was skipped`);
      continue;
    }
    assert.ok(Number.isFinite(cell.testEsr) && Number.isFinite(cell.identityEsr), cell.id);
    assert.equal(cell.metrics!.model.esr, cell.testEsr);
    assert.ok(cell.realTimeFactor! > 0, cell.id);
    assert.ok(cell.training!.parameters > 0 && cell.training!.epochs <= 1, cell.id);
    assert.ok(
      cell.training!.trainingSeconds < 15,
      `${cell.id}: the 2 s budget holds (${cell.training!.trainingSeconds} s)`,
    );
    assert.ok(existsSync(join(out, cell.model!)), `${cell.id}: model file`);
  }
  for (const cell of selected as CellRecord[]) {
    if (cell.effect.startsWith("paper-")) {
      assert.equal(cell.status, paperAbsent ? "skipped" : "done", cell.id);
      if (paperAbsent) assert.match(cell.reason!, /absent/);
    } else {
      assert.equal(cell.status, pianoMissing ? "skipped" : "done", cell.id);
      if (pianoMissing) assert.match(cell.reason!, /fluidsynth/);
    }
  }
  const markdown = readFileSync(join(out, "results.md"), "utf8");
  assert.match(
    markdown,
    /\| effect: train → test \| identity \| linear-256 \| mlp-study \| seedconv-study \| tcn-small \| lstm-16 \|/,
  );
  assert.match(markdown, /## lowpass: sweeps → piano/);
  const html = readFileSync(join(out, "summary.html"), "utf8");
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<h2>Test ESR<\/h2>/);

  // Resume: the same command again skips every finished cell and leaves their files as they were.
  const before = cellFiles(out);
  assert.equal(before.length, 8);
  const second = experiment(...args);
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stdout,
    /8 cell\(s\) already finished \((\d+ done|\d+ skipped)(, \d+ (done|skipped))?\): skipping them/,
  );
  assert.doesNotMatch(second.stdout, /\[1\//, "nothing ran");
  assert.deepEqual(cellFiles(out), before);
  assert.deepEqual(
    readResults(out).cells.map((cell) => cell.status),
    results.cells.map((cell) => cell.status),
  );

  // Another budget makes the cells stale: they are redone, not silently reused.
  const third = experiment(
    "--config",
    CONFIG,
    "--out",
    out,
    ...QUICK,
    "--max-seconds",
    "1",
    "--only",
    "drive.*.linear-256.*",
  );
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /1 cell\(s\) were made with other settings or config: redoing them/);
});

test("a run killed with SIGKILL leaves only complete cell files, and the next run finishes the rest", async () => {
  const out = join(dir, "killed");
  const args = ["--config", CONFIG, "--out", out, ...QUICK, "--workers", "1", "--only", "*.lstm-16.*"];
  const child = spawn(process.execPath, [BIN, "experiment", ...args], { cwd: ROOT, stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const cells = join(out, "cells");
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (
      existsSync(cells) &&
      readdirSync(cells).some((name) => name.endsWith(".json") && !name.startsWith("."))
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  await exited;
  const survivors = cellFiles(out);
  assert.ok(survivors.length >= 1 && survivors.length <= 4, `${survivors.length} cell files`);
  for (const file of survivors) {
    const record = JSON.parse(file.text) as CellRecord; // a partial file would not parse
    assert.equal(record.format, CELL_FORMAT);
    assert.equal(`${record.id}.json`, file.name);
  }
  assert.ok(!existsSync(join(out, "results.json")), "killed before the summaries");

  const resumed = experiment(...args);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`${survivors.length} cell\\(s\\) already finished`));
  const statuses = readResults(out)
    .cells.filter((cell) => cell.id.includes(".lstm-16."))
    .map((cell) => cell.status);
  assert.deepEqual(
    statuses.filter((status) => status !== "done" && status !== "skipped"),
    [],
  );
  assert.equal(statuses.length, 4);
  assert.deepEqual(
    readdirSync(cells).filter((name) => name.endsWith(".tmp")),
    [],
    "no temporary files left",
  );
});

test("bad flags and configs fail with one line naming the problem", () => {
  const bad = experiment("--config", CONFIG, "--out", join(dir, "bad"), "--only", "nothing.*");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^deepsp: --only "nothing\.\*" matches none of the 20 cells/);
  const flag = experiment("--config", CONFIG, "--out", join(dir, "bad"), "--max-epochs", "0");
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /^deepsp: --max-epochs must be a whole number >= 1, got "0"/);
  const missing = experiment("--config", join(dir, "nope.json"), "--out", join(dir, "bad"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^deepsp: cannot read .*nope\.json: no such file/);
});
