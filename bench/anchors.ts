import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One PyTorch measurement from ../shared/bench-anchors/torch_bench.py (its JSON lines). */
export interface TorchFigure {
  case: string;
  samples_per_s: number;
  threads: number;
}

const ANCHORS = fileURLToPath(new URL("../../shared/bench-anchors/", import.meta.url));

/**
 * PyTorch's training figures (samples/s) of ../shared/bench-anchors/README.md, measured on 2026-11-24 on a
 * 2-vCPU Zen 4 machine of this kind (its results folder keeps no PyTorch lines): the figures the goals
 * quote. Keyed "<case>@<threads>".
 */
export const STORED_TORCH_TRAINING: ReadonlyMap<string, number> = new Map([
  ["train-lstm16@1", 149_600],
  ["train-lstm16-b256@1", 869_000],
  ["train-lstm32@1", 135_300],
  ["train-gru16@1", 147_500],
  ["train-tcn16x10@1", 223_000],
  ["train-tcn16x10@2", 455_000],
  ["train-mlp256@1", 704_000],
]);

/**
 * PyTorch's figures for the named cases, measured now when Debian's python3-torch is installed (so the ratio
 * compares two runs on the same machine at the same time); an empty map otherwise (the stored figures above
 * are then the only anchor).
 */
export function torchAnchors(
  cases: string[],
  lstmBatches: number[],
  threads = 1,
): { figures: Map<string, number>; source: string } {
  const figures = new Map<string, number>();
  const script = `${ANCHORS}torch_bench.py`;
  if (existsSync(script) && hasTorch()) {
    const output = execFileSync(
      "/usr/bin/python3",
      [
        script,
        "--threads",
        String(threads),
        "--steps",
        "5",
        "--warmup",
        "2",
        "--budget",
        "20",
        "--only",
        cases.join(","),
        "--lstm-batches",
        lstmBatches.join(","),
      ],
      {
        encoding: "utf8",
        env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    for (const figure of parseLines(output)) figures.set(figure.case, figure.samples_per_s);
    return { figures, source: `PyTorch ${threads} thread(s), measured in this run` };
  }
  return { figures, source: "python3-torch not installed: only the stored 2026-11-24 figures" };
}

function hasTorch(): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function parseLines(text: string): TorchFigure[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as TorchFigure & { meta?: unknown })
    .filter((row) => row.case !== undefined && row.samples_per_s !== undefined);
}
