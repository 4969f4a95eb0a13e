import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Benchmark, Figure } from "../harness.ts";

/**
 * Peak memory while windowing 10 minutes of stereo 48 kHz audio for one epoch (window 8192, overlap 10,
 * prefix 4095, batch 16). Runs in a child process so its peak RSS is its own; the audio itself is
 * 2 x 2 x 28.8 M float32 = 461 MB, so the interesting figure is the overhead above it.
 */
export const windowsMemoryBench: Benchmark = {
  name: "windows-memory",
  description: "peak RSS for one epoch of windows over 10 min of stereo 48 kHz audio",
  async run() {
    const script = fileURLToPath(new URL("./windows-memory-child.ts", import.meta.url));
    const output = execFileSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" });
    return JSON.parse(output) as Figure[];
  },
};
