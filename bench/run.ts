/**
 * `npm run bench [-- name ... [--only case,case]]`: runs the benchmarks (all but the slow ones, or those named),
 * prints one line per figure and writes every figure to bench/results/<timestamp>.json so runs can be compared.
 * `--only` narrows the benchmarks that measure named cases (e.g. `npm run bench -- training --only tcn,mlp`).
 * Never part of `npm test`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { enableRelaxedSimd } from "../src/node/wasm.ts";
import { wavBench } from "./audio/wav.ts";
import { alignmentBench } from "./data/alignment.ts";
import { windowsMemoryBench } from "./data/windows-memory.ts";
import { effectsBench } from "./effects/render.ts";
import type { Benchmark, Figure } from "./harness.ts";
import { kernelsBench } from "./runtime/kernels.ts";
import { runtimeBench } from "./runtime/stream.ts";
import { generateBench } from "./signals/generate.ts";
import { studyLowpassBench } from "./study/lowpass.ts";
import { fusedBench } from "./train/fused.ts";
import { trainingMemoryBench } from "./train/memory.ts";
import { trainingBench } from "./train/throughput.ts";
import { webTrainBench } from "./web/train.ts";

enableRelaxedSimd();

const benchmarks: Benchmark[] = [
  wavBench,
  generateBench,
  alignmentBench,
  windowsMemoryBench,
  trainingBench,
  fusedBench,
  trainingMemoryBench,
  runtimeBench,
  kernelsBench,
  effectsBench,
  studyLowpassBench,
  webTrainBench,
];

const args = process.argv.slice(2);
const onlyAt = args.indexOf("--only");
const only = onlyAt < 0 ? [] : (args[onlyAt + 1] ?? "").split(",").filter((name) => name !== "");
const wanted = onlyAt < 0 ? args : [...args.slice(0, onlyAt), ...args.slice(onlyAt + 2)];
const unknown = wanted.filter((name) => !benchmarks.some((bench) => bench.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s): ${unknown.join(", ")}; known: ${benchmarks.map((b) => b.name).join(", ")}`,
  );
  process.exit(2);
}

const figures: (Figure & { bench: string })[] = [];
for (const bench of benchmarks) {
  if (wanted.length > 0 ? !wanted.includes(bench.name) : bench.slow) continue;
  console.log(`\n== ${bench.name}: ${bench.description}`);
  for (const figure of await bench.run({ only })) {
    figures.push({ bench: bench.name, ...figure });
    console.log(
      `  ${figure.name.padEnd(48)} ${formatValue(figure.value)} ${figure.unit}${figure.note ? `  (${figure.note})` : ""}`,
    );
  }
}

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const machine = { node: process.version, cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length };
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const path = new URL(`./results/${stamp}.json`, import.meta.url);
writeFileSync(path, `${JSON.stringify({ date: new Date().toISOString(), machine, figures }, null, 2)}\n`);
console.log(`\nwrote ${path.pathname}`);

function formatValue(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
