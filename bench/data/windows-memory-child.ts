// Child process of the windows-memory benchmark: prints its figures as JSON on stdout.
import { Rng } from "../../src/core/rng.ts";
import { splitFrames } from "../../src/data/split.ts";
import { windowsForRole } from "../../src/data/windows.ts";

const rate = 48000;
const frames = 10 * 60 * rate;
const megabytes = (kilobytes: number) => kilobytes / 1024;
const before = megabytes(process.resourceUsage().maxRSS);

const rng = new Rng(1);
const channel = () => {
  const samples = new Float32Array(frames);
  for (let n = 0; n < frames; n++) samples[n] = rng.uniform(-0.5, 0.5);
  return samples;
};
const pair = {
  input: { sampleRate: rate, channels: [channel(), channel()] },
  target: { sampleRate: rate, channels: [channel(), channel()] },
};
const withAudio = megabytes(process.resourceUsage().maxRSS);

const split = splitFrames(frames, rate);
const windows = windowsForRole([{ name: "take", pair, split }], "train", {
  length: 8192,
  overlap: 10,
  prefix: 4095,
});
const start = performance.now();
let checksum = 0;
for (const batch of windows.batches({ batchSize: 16, epoch: 1, seed: 1 })) checksum += batch.target[0]!;
const epochMs = performance.now() - start;
const peak = megabytes(process.resourceUsage().maxRSS);

console.log(
  JSON.stringify([
    { name: "RSS before audio", value: before, unit: "MB" },
    { name: "RSS with the pair in memory", value: withAudio, unit: "MB", note: "audio alone: 461 MB" },
    { name: "peak RSS after one epoch", value: peak, unit: "MB" },
    { name: "windowing overhead (peak - with audio)", value: peak - withAudio, unit: "MB" },
    { name: "train windows", value: windows.count, unit: "", note: `checksum ${checksum.toFixed(3)}` },
    { name: "one epoch of batches", value: epochMs, unit: "ms" },
  ]),
);
