import { availableParallelism } from "node:os";
import { Command } from "commander";
import { runExperiment } from "../../src/node/experiment/runner.ts";
import { integer, number } from "../parse.ts";

interface ExperimentCommandOptions {
  config: string;
  out: string;
  workers?: string;
  maxEpochs?: string;
  maxSeconds?: string;
  materialSeconds?: string;
  only?: string;
  force?: boolean;
  verbose?: boolean;
}

export function experimentCommand(): Command {
  return new Command("experiment")
    .description(
      "run a study: train every architecture on every effect and material of a config, test, and summarise (resumable)",
    )
    .requiredOption("-c, --config <file>", "the experiment config (e.g. experiments/study-seed.json)")
    .requiredOption(
      "-o, --out <folder>",
      "results folder: cells/, models/, results.json, results.md, summary.html",
    )
    .option(
      "-w, --workers <n>",
      `worker processes, one cell each at a time (default ${availableParallelism()})`,
    )
    .option("--max-epochs <n>", "lower the config's epochs per training (quick runs)")
    .option("--max-seconds <s>", "lower the config's seconds per training (quick runs)")
    .option(
      "--material-seconds <s>",
      "cut every material and recording to at most this many seconds (quick runs)",
    )
    .option(
      "--only <globs>",
      'run only cells whose id matches, e.g. "lowpass.*" or "*.tcn-small.*,*.lstm-16.*"',
    )
    .option("--force", "redo cells (and retrain models) that are already finished")
    .option("--verbose", "print every epoch")
    .action(async (options: ExperimentCommandOptions) => {
      const stop = new AbortController();
      const onInterrupt = () => {
        if (stop.signal.aborted) process.exit(130);
        console.error("\nstopping: unfinished cells are not written; run the same command again to resume");
        stop.abort();
      };
      process.on("SIGINT", onInterrupt);
      process.on("SIGTERM", onInterrupt);
      const started = Date.now();
      try {
        const run = await runExperiment({
          configPath: options.config,
          outDir: options.out,
          ...(options.workers ? { workers: integer(options.workers, "--workers", 1) } : {}),
          ...(options.maxEpochs ? { maxEpochs: integer(options.maxEpochs, "--max-epochs", 1) } : {}),
          ...(options.maxSeconds ? { maxSeconds: number(options.maxSeconds, "--max-seconds") } : {}),
          ...(options.materialSeconds
            ? { materialSeconds: number(options.materialSeconds, "--material-seconds") }
            : {}),
          ...(options.only ? { only: options.only } : {}),
          force: options.force === true,
          verbose: options.verbose === true,
          signal: stop.signal,
          log: (line) => console.log(line),
        });
        const { counts } = run.results;
        console.log(
          `\n${run.stopped ? "stopped" : "finished"} in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
            `${counts.done} done, ${counts.skipped} skipped, ${counts.failed} failed, ${counts.pending} pending`,
        );
        console.log(
          `results: ${run.paths.results}\n         ${run.paths.markdown}\n         ${run.paths.html}`,
        );
        if (run.stopped) process.exitCode = 130;
      } finally {
        process.off("SIGINT", onInterrupt);
        process.off("SIGTERM", onInterrupt);
      }
    });
}
