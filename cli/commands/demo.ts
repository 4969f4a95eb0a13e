import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { Command } from "commander";
import { OptionError } from "../../src/core/errors.ts";
import { escapeHtml } from "../../src/experiment/html.ts";
import { writeFileAtomic } from "../../src/node/files.ts";
import { readModelFile } from "../../src/node/model-files.ts";
import { integer, number } from "../parse.ts";
import { runEval } from "./eval.ts";
import { pairCommand } from "./pair.ts";
import { trainCommand } from "./train.ts";

const DEFAULT_OUT = "out/demo";
const SAMPLE_RATE = 48000;
/** Seconds of held-out music (a different material from the training signal) each model is judged on. */
const HELD_OUT_SECONDS = 10;

/** What the demo captures: a linear effect and a nonlinear one, each with the model that suits it. */
interface DemoEffect {
  name: string;
  chain: string;
  preset: string;
  epochs: number;
  /** deepsp train flags beyond the preset's. */
  trainFlags: string[];
  why: string;
}

const DEMO_EFFECTS: readonly DemoEffect[] = [
  {
    name: "filter",
    chain: "lowpass(cutoffHz=1000, order=4)",
    preset: "linear-256",
    epochs: 10,
    trainFlags: [],
    why: "a linear effect: a 256-tap FIR filter can copy it almost exactly",
  },
  {
    name: "drive",
    chain: "lowpass(cutoffHz=4000) | drive(gainDb=12, outputDb=-6)",
    preset: "lstm-16",
    epochs: 5,
    // Short windows give 85 optimizer steps per epoch instead of the preset's 12: what a 2-minute budget needs
    // (validation ESR 1.4e-2 after 4 epochs vs 5.1e-1 after 5 with the preset's 8192-sample windows).
    trainFlags: ["--window", "2048", "--burn-in", "512", "--overlap", "3"],
    why: "a nonlinear effect with memory: a 16-unit LSTM learns the tone filter and the saturation",
  },
];

interface DemoOptions {
  out: string;
  seconds: string;
  epochs?: string;
  force?: boolean;
}

interface DemoResult {
  effect: DemoEffect;
  modelFile: string;
  runReport: string;
  heldOutReport: string;
  parameters: number;
  trainingSeconds: number;
  testEsr: number | null;
  testIdentityEsr: number | null;
  heldOutEsr: number;
  heldOutIdentityEsr: number;
}

/**
 * The end-to-end demo on built-in material, no files needed (`npm start`). For a filter and a drive from the
 * effect library it runs what a user would type: `deepsp pair` (generate the standard capture signal and
 * render it through the effect), `deepsp train` (progress bar, checkpoints, the run's HTML report), and
 * `deepsp eval --report` on held-out music the model never saw. It ends with a page linking every report.
 */
export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "end-to-end demo on built-in material: capture a filter and a drive, train, evaluate, write reports",
    )
    .option("-o, --out <folder>", "folder for the demo's files", DEFAULT_OUT)
    .option("--seconds <s>", "seconds of training material per effect (>= 20)", "30")
    .option("--epochs <n>", "training epochs for every model (default: per model, see the README)")
    .option("--force", "replace the demo's files in --out (always on for the default folder)")
    .action(runDemo);
}

async function runDemo(options: DemoOptions): Promise<void> {
  const started = performance.now();
  const seconds = number(options.seconds, "--seconds");
  if (!(seconds >= 20 && seconds <= 3600)) {
    throw new OptionError(
      "options/invalid",
      `--seconds must be from 20 to 3600 (the standard capture signal needs 20), got "${options.seconds}"`,
    );
  }
  const epochs = options.epochs === undefined ? null : integer(options.epochs, "--epochs", 1);
  const force = options.force === true || options.out === DEFAULT_OUT;
  const page = join(options.out, "index.html");
  if (!force && existsSync(page)) {
    throw new OptionError(
      "options/exists",
      `${page} already exists: pass --force to replace the demo's files`,
    );
  }
  const forced = force ? ["--force"] : [];

  const results: DemoResult[] = [];
  for (const [index, effect] of DEMO_EFFECTS.entries()) {
    const folder = join(options.out, effect.name);
    const step = `${index + 1}/${DEMO_EFFECTS.length} ${effect.name}`;
    console.log(`\n== ${step}: ${effect.chain} (${effect.why})`);

    console.log(
      `\n-- ${step}: the training pair: ${seconds} s of the standard capture signal through the effect`,
    );
    const pair = join(folder, "pair");
    const material = { seconds, sampleRate: SAMPLE_RATE, seed: 1 };
    await run(
      pairCommand(),
      ["--material", "standard", "--material-options", JSON.stringify(material)],
      ["-e", effect.chain, "-o", pair, ...forced],
    );

    const heldOut = join(folder, "held-out");
    const music = { seconds: HELD_OUT_SECONDS, sampleRate: SAMPLE_RATE, seed: 7 };
    console.log(`\n-- ${step}: held-out audio: ${HELD_OUT_SECONDS} s of generated music through the effect`);
    await run(
      pairCommand(),
      ["--material", "melody", "--material-options", JSON.stringify(music)],
      ["-e", effect.chain, "-o", heldOut, ...forced],
    );

    const modelFile = join(folder, "model.json");
    const runDir = join(folder, "model.run");
    const modelEpochs = epochs ?? effect.epochs;
    console.log(`\n-- ${step}: train ${effect.preset} for ${modelEpochs} epochs`);
    // A fresh start: the demo's run folder never resumes an older run.
    if (force) await rm(runDir, { recursive: true, force: true });
    await run(
      trainCommand(),
      ["-i", join(pair, "input.wav"), "-t", join(pair, "target.wav"), "--preset", effect.preset],
      // The effect library reports the chain's latency (0 here): no detection, which would read a filter's
      // group delay as latency and ask the model to predict ahead.
      ["--align", "none", "--epochs", String(modelEpochs), ...effect.trainFlags],
      ["--render-every", "1", "-o", modelFile, ...forced],
    );

    console.log(`\n-- ${step}: evaluate on the held-out music`);
    const evaluation = await runEval({
      model: modelFile,
      input: join(heldOut, "input.wav"),
      target: join(heldOut, "target.wav"),
      align: "none",
      maxDelayMs: "100",
      block: "128",
      report: join(folder, "held-out-report"),
    });
    const log = JSON.parse(await readFile(join(runDir, "train-log.json"), "utf8")) as TrainLogSummary;
    results.push({
      effect,
      modelFile,
      runReport: join(runDir, "report", "index.html"),
      heldOutReport: evaluation.reportPage!,
      parameters: (await readModelFile(modelFile)).model.parameters.count,
      trainingSeconds: log.result.history.reduce((sum, epoch) => sum + epoch.seconds, 0),
      testEsr: log.test?.testEsr ?? null,
      testIdentityEsr: log.test?.identityTestEsr ?? null,
      heldOutEsr: evaluation.comparison.model.esr,
      heldOutIdentityEsr: evaluation.comparison.identity.esr,
    });
  }

  const wallSeconds = (performance.now() - started) / 1000;
  await writeFileAtomic(page, new TextEncoder().encode(summaryPage(results, options.out, wallSeconds)), {
    overwrite: true,
  });
  console.log(
    "\n== summary (ESR: error-to-signal ratio, lower is better; identity = passing the input through)",
  );
  for (const result of results) {
    console.log(
      `${result.effect.name.padEnd(7)} ${result.effect.preset.padEnd(11)} held-out ESR ${result.heldOutEsr.toExponential(2)}` +
        ` (identity ${result.heldOutIdentityEsr.toExponential(2)}), test ESR ${format(result.testEsr)}`,
    );
  }
  console.log(`\ndemo finished in ${wallSeconds.toFixed(0)} s\nreport: ${page}`);
}

/** The fields of train-log.json the summary reads. */
interface TrainLogSummary {
  result: { history: { seconds: number }[] };
  test?: { testEsr?: number; identityTestEsr?: number };
}

/** Runs a deepsp subcommand with these arguments, exactly as the CLI would. */
async function run(command: Command, ...args: string[][]): Promise<void> {
  await command.parseAsync(args.flat(), { from: "user" });
}

const format = (value: number | null): string => (value === null ? "—" : value.toExponential(2));

/** The demo's front page: one row per captured effect, linking its training and held-out reports. */
function summaryPage(results: readonly DemoResult[], folder: string, wallSeconds: number): string {
  const link = (path: string, text: string) =>
    `<a href="${escapeHtml(relative(folder, path))}">${escapeHtml(text)}</a>`;
  const rows = results
    .map(
      (
        result,
      ) => `<tr><th>${escapeHtml(result.effect.name)}</th><td><code>${escapeHtml(result.effect.chain)}</code></td>
<td>${escapeHtml(result.effect.preset)}</td><td class="num">${result.parameters}</td>
<td class="num">${result.trainingSeconds.toFixed(1)} s</td>
<td class="num">${format(result.testEsr)}</td><td class="num">${format(result.testIdentityEsr)}</td>
<td class="num">${format(result.heldOutEsr)}</td><td class="num">${format(result.heldOutIdentityEsr)}</td>
<td>${link(result.runReport, "training")} · ${link(result.heldOutReport, "held-out")} · ${link(result.modelFile, "model")}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>deepsp demo</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
table { border-collapse: collapse; } th, td { border-bottom: 1px solid #ddd; padding: .35rem .6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style></head><body>
<h1>deepsp demo</h1>
<p>Two effects from deepsp's effect library, rendered on generated material, each captured by a small network.
The <em>test</em> ESR is on the held-out last 10% of the training signal; the <em>held-out</em> ESR is on music
the model never saw. ESR (error-to-signal ratio) is 0 for a perfect copy; "identity" is what passing the input
through unchanged scores. Made in ${wallSeconds.toFixed(0)} s.</p>
<table>
<thead><tr><th>effect</th><th>chain</th><th>model</th><th>parameters</th><th>training</th><th>test ESR</th>
<th>identity</th><th>held-out ESR</th><th>identity</th><th>reports</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
