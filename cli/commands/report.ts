import { Command } from "commander";
import { OptionError } from "../../src/core/errors.ts";
import { buildRunReport } from "../../src/node/report.ts";
import { number } from "../parse.ts";

interface ReportOptions {
  maxAudioSeconds: string;
}

/**
 * `deepsp report <run-dir>`: (re)builds a training run's HTML report, <run-dir>/report/index.html, from what
 * `deepsp train` left in the folder (train-log.json, the model file and pair audio it names, the renders).
 */
export function reportCommand(): Command {
  return new Command("report")
    .description("(re)build the HTML report of a training run: <run-dir>/report/index.html")
    .argument("<run-dir>", "the run folder deepsp train wrote (train-log.json, checkpoints, renders)")
    .option(
      "--max-audio-seconds <s>",
      "seconds of audio in the players, waveforms and spectrograms (the metrics use all of it)",
      "30",
    )
    .action(async (runDir: string, options: ReportOptions) => {
      const maxAudioSeconds = number(options.maxAudioSeconds, "--max-audio-seconds");
      if (!(maxAudioSeconds > 0)) {
        throw new OptionError(
          "options/invalid",
          `--max-audio-seconds must be > 0, got ${options.maxAudioSeconds}`,
        );
      }
      const page = await buildRunReport(runDir, { maxAudioSeconds });
      console.log(`report: ${page}`);
    });
}
