import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ToolError } from "../../src/core/errors.ts";
import { findProgram, requireProgram, runTool, withTempDir } from "../../src/node/tools.ts";

/** Asserts that `promise` rejects with a ToolError of `code` whose message matches `message`. */
async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ToolError, `expected a ToolError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

test("findProgram searches PATH like `command -v` and reports absence as undefined", async () => {
  const sh = await findProgram({ program: "sh" });
  assert.ok(sh?.endsWith("/sh"), `sh found at ${sh}`);
  assert.equal(await findProgram({ program: "deepsp-no-such-program-x9" }), undefined);
  assert.equal(await findProgram({ program: "sh", searchPath: "" }), undefined);
  assert.equal(await findProgram({ program: "/bin/sh" }), "/bin/sh");
  assert.equal(await findProgram({ program: "/etc/hostname-not-a-program" }), undefined);
});

test("requireProgram names the Debian package of a missing program", async () => {
  await rejectsWith(
    requireProgram({ program: "fluidsynth", debianPackage: "fluidsynth fluid-soundfont-gm", searchPath: "" }),
    "tool/missing",
    /^fluidsynth is not installed \(apt-get install -y fluidsynth fluid-soundfont-gm\)$/,
  );
});

test("runTool passes stdin bytes through unchanged and captures stdout and stderr as bytes", async () => {
  const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff); // larger than a pipe buffer
  const result = await runTool({ program: "cat", args: [], stdin: bytes });
  assert.ok(result.stdout instanceof Uint8Array);
  assert.deepEqual(result.stdout, bytes);
  assert.equal(result.stderr.length, 0);

  // No shell: the argument reaches the program as it is, quotes and $ included.
  const echoed = await runTool({
    program: "sh",
    args: ["-c", 'printf "%s" "$1"; printf err >&2', "sh", "a 'b' $HOME"],
  });
  assert.equal(new TextDecoder().decode(echoed.stdout), "a 'b' $HOME");
  assert.equal(new TextDecoder().decode(echoed.stderr), "err");
});

test("a program that is not installed gives tool/missing naming the Debian package", async () => {
  await rejectsWith(
    runTool({ program: "deepsp-no-such-program-x9", args: [] }),
    "tool/missing",
    /not installed/,
  );
  // A known program with an empty PATH: the package comes from the built-in table.
  await rejectsWith(
    runTool({ program: "espeak-ng", args: ["--version"], env: { PATH: "" } }),
    "tool/missing",
    /^espeak-ng is not installed \(apt-get install -y espeak-ng\)$/,
  );
  await rejectsWith(
    runTool({ program: "fluidsynth", args: [], env: { PATH: "" } }),
    "tool/missing",
    /apt-get install -y fluidsynth fluid-soundfont-gm/,
  );
});

test("a failing run gives tool/failed with the exit code and the last lines of stderr", async () => {
  const script = "for i in $(seq 1 20); do echo line$i >&2; done; exit 3";
  await assert.rejects(runTool({ program: "sh", args: ["-c", script] }), (error: unknown) => {
    assert.ok(error instanceof ToolError);
    assert.equal(error.code, "tool/failed");
    assert.match(error.message, /^sh exited with code 3; stderr: line13 \| .* \| line20$/);
    assert.doesNotMatch(error.message, /line12 /);
    assert.ok(!error.message.includes("\n"), "one line");
    return true;
  });
  await rejectsWith(
    runTool({ program: "sh", args: ["-c", "kill -9 $$"] }),
    "tool/failed",
    /killed by SIGKILL/,
  );
});

test("a run past its timeout is killed and gives tool/timeout", async () => {
  const started = performance.now();
  await rejectsWith(
    runTool({ program: "sleep", args: ["10"], timeoutSeconds: 0.2 }),
    "tool/timeout",
    /longer than 0.2 s/,
  );
  assert.ok(performance.now() - started < 3000, "killed promptly");
});

test("withTempDir removes its folder after success and after an error", async () => {
  let kept = "";
  const value = await withTempDir(async (dir) => {
    kept = dir;
    await writeFile(join(dir, "a.bin"), new Uint8Array(10));
    return 42;
  });
  assert.equal(value, 42);
  assert.ok(!existsSync(kept), `${kept} removed`);

  await assert.rejects(
    withTempDir(async (dir) => {
      kept = dir;
      await writeFile(join(dir, "b.bin"), new Uint8Array(10));
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.ok(!existsSync(kept), `${kept} removed after the error`);
});
