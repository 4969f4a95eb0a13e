import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { OptionError, ToolError } from "../core/errors.ts";

/**
 * Running external programs (fluidsynth, espeak-ng, sox, lv2apply, ffmpeg): find them on PATH, run them
 * without a shell (arguments are passed as they are, so file names and text need no quoting), feed stdin,
 * capture stdout/stderr as bytes, and turn every way it can go wrong into a ToolError:
 *   tool/missing  the program is not on PATH (the message names the Debian package that installs it)
 *   tool/failed   it exited with a non-zero code or was killed (the message quotes the end of its stderr)
 *   tool/timeout  it ran longer than `timeoutSeconds` and was killed
 */

/** A program we run and the Debian package(s) that install it, for the "apt-get install" hint. */
export interface ToolRequirement {
  program: string;
  /** Space-separated Debian package names, e.g. "fluidsynth fluid-soundfont-gm". */
  debianPackage: string;
}

/** Debian packages of the programs deepsp uses, so a missing one can be named even when a caller gives none. */
export const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  fluidsynth: "fluidsynth fluid-soundfont-gm",
  "espeak-ng": "espeak-ng",
  festival: "festival festvox-us-slt-hts",
  timidity: "timidity",
  sox: "sox",
  lv2apply: "lilv-utils",
  lv2ls: "lilv-utils",
  ffmpeg: "ffmpeg",
};

/**
 * The ToolError for a program that is not installed, e.g.
 * "fluidsynth is not installed (apt-get install -y fluidsynth fluid-soundfont-gm)".
 */
export function missingToolError(options: { program: string; debianPackage?: string }): ToolError {
  const packages = options.debianPackage ?? DEBIAN_PACKAGES[options.program];
  const hint = packages === undefined ? "it is not on PATH" : `apt-get install -y ${packages}`;
  return new ToolError("tool/missing", `${options.program} is not installed (${hint})`);
}

/**
 * Absolute path of `program` found on the search path (like `command -v`), or undefined when it is not
 * installed. A program name containing "/" is checked as a path instead of being searched for.
 */
export async function findProgram(options: {
  program: string;
  /** PATH-style list of folders; default: process.env.PATH. */
  searchPath?: string;
}): Promise<string | undefined> {
  const { program } = options;
  if (program.length === 0) return undefined;
  if (program.includes("/")) return (await isExecutableFile(program)) ? program : undefined;
  const folders = (options.searchPath ?? process.env["PATH"] ?? "")
    .split(delimiter)
    .filter((f) => f.length > 0);
  for (const folder of folders) {
    const candidate = join(folder, program);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Throws the tool/missing ToolError unless `program` is on PATH; returns its absolute path. */
export async function requireProgram(options: ToolRequirement & { searchPath?: string }): Promise<string> {
  const found = await findProgram(options);
  if (found === undefined) throw missingToolError(options);
  return found;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export interface RunToolOptions {
  /** Program name (searched on PATH) or path. */
  program: string;
  /** Arguments, passed without a shell. */
  args: readonly string[];
  /** Bytes written to the program's stdin (then stdin is closed); default: stdin is empty. */
  stdin?: Uint8Array | string;
  /** Kill the program (SIGKILL) and throw tool/timeout after this many seconds; default 300. */
  timeoutSeconds?: number;
  /** Debian package(s) for the tool/missing message; default: looked up in DEBIAN_PACKAGES. */
  debianPackage?: string;
  /** Working directory; default: the current one. */
  cwd?: string;
  /** Environment; default: process.env. Its PATH is the one searched. */
  env?: NodeJS.ProcessEnv;
}

export interface ToolResult {
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** Wall-clock run time in seconds. */
  seconds: number;
}

const STDERR_TAIL_LINES = 8;

/**
 * Runs a program to completion and returns what it wrote. Throws ToolError tool/missing, tool/failed
 * (non-zero exit or killed by a signal; the message has the exit code and the last lines of stderr) or
 * tool/timeout.
 */
export async function runTool(options: RunToolOptions): Promise<ToolResult> {
  const { program, args } = options;
  const timeoutSeconds = options.timeoutSeconds ?? 300;
  if (!(timeoutSeconds > 0)) {
    throw new OptionError("options/invalid", `runTool: timeoutSeconds must be > 0, got ${timeoutSeconds}`);
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      shell: false,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    const finish = (error: Error | undefined, result?: ToolResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(result!);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutSeconds * 1000);

    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    // A program that exits without reading all its stdin makes our write fail with EPIPE; its exit code
    // (reported below) is the useful part, so the write error itself is ignored.
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin ?? "");

    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        finish(
          missingToolError({
            program,
            ...(options.debianPackage ? { debianPackage: options.debianPackage } : {}),
          }),
        );
      } else {
        finish(
          new ToolError("tool/failed", `${program} could not be started: ${error.message}`, { cause: error }),
        );
      }
    });
    child.on("close", (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      const stderrBytes = Buffer.concat(stderr);
      if (timedOut) {
        finish(
          new ToolError("tool/timeout", `${program} ran longer than ${timeoutSeconds} s and was killed`),
        );
      } else if (code !== 0) {
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        const tail = stderrTail(stderrBytes);
        finish(
          new ToolError("tool/failed", `${program} ${how}${tail ? `; stderr: ${tail}` : " (no stderr)"}`),
        );
      } else {
        finish(undefined, { stdout: toBytes(Buffer.concat(stdout)), stderr: toBytes(stderrBytes), seconds });
      }
    });
  });
}

/** The last few non-empty lines of stderr, joined with " | " so the error message stays on one line. */
function stderrTail(bytes: Buffer): string {
  const lines = bytes
    .toString("utf8")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines.slice(-STDERR_TAIL_LINES).join(" | ");
}

/** A plain Uint8Array view of a Buffer (no copy), so callers see the same type in Node and the browser. */
function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Calls `body` with a fresh temporary folder (fs.mkdtemp under os.tmpdir()) and removes the folder and
 * everything in it afterwards, whether `body` succeeds or throws.
 */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "deepsp-"));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
