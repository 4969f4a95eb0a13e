import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One PyTorch measurement from ../shared/bench-anchors/torch_bench.py (its JSON lines). */
export interface TorchFigure {
  case: string;
  samples_per_s: number;
  threads: number;
}

const ANCHORS = fileURLToPath(new URL("../../shared/bench-anchors/", import.meta.url));
const STORED = `${ANCHORS}results-2026-11-24/`;

/**
 * PyTorch's figures for the named cases: measured now when Debian's python3-torch is installed (so the
 * ratio compares two runs on the same machine at the same time), else read from the stored 2026-11-24
 * results, marked as such. Returns an empty map when neither is available.
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
  const files = threads === 1 ? ["torch_t1.jsonl", "torch_batch_t1.jsonl"] : [`torch_t${threads}.jsonl`];
  for (const file of files) {
    if (!existsSync(STORED + file)) continue;
    for (const figure of parseLines(readFileSync(STORED + file, "utf8"))) {
      if (cases.some((name) => figure.case.startsWith(name))) figures.set(figure.case, figure.samples_per_s);
    }
  }
  return {
    figures,
    source:
      figures.size > 0
        ? `PyTorch ${threads} thread(s), stored 2026-11-24 results (python3-torch not installed)`
        : "no anchor",
  };
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
