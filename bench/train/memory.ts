import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Benchmark, Figure } from "../harness.ts";

/**
 * Peak memory while training on 10 minutes of stereo 48 kHz audio (the issue's < 1 GiB goal), for a recurrent
 * and a convolutional preset, on two threads, over the first batches after a full validation pass. Each run
 * is its own child process, so its peak RSS (worker threads included) is its own. The audio itself is
 * 2 x 2 x 28.8 M float32 = 461 MB.
 */
export const trainingMemoryBench: Benchmark = {
  name: "training-memory",
  description: "peak RSS training on 10 min of stereo 48 kHz audio (lstm-16, wavenet-standard; 2 threads)",
  slow: true,
  async run() {
    const script = fileURLToPath(new URL("./memory-child.ts", import.meta.url));
    const figures: Figure[] = [];
    for (const [preset, batches] of [
      ["lstm-16", "20"],
      ["wavenet-standard", "4"],
      ["tcn-gated16", "4"],
    ] as const) {
      const output = execFileSync(process.execPath, ["--import", "tsx", script, preset, batches], {
        encoding: "utf8",
        maxBuffer: 1 << 20,
      });
      figures.push(...(JSON.parse(output.trim().split("\n").at(-1)!) as Figure[]));
    }
    return figures;
  },
};
