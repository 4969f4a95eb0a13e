import { Command, Option } from "commander";
import { describeFormat } from "../../src/audio/wav.ts";
import { type PreparedPair, preparePairForTraining } from "../../src/data/dataset.ts";
import type { PairOptions } from "../../src/data/pair.ts";
import { parseSplitSpec, ROLES } from "../../src/data/split.ts";
import type { WindowOptions } from "../../src/data/windows.ts";
import { readWavFile, writeJsonFile } from "../../src/node/files.ts";
import { formatSeconds, formatTable, printJson, warn } from "../output.ts";
import { integer, number, parseAlign } from "../parse.ts";

interface PairCommandOptions {
  input: string;
  target: string;
  resample?: boolean;
  channels: NonNullable<PairOptions["channels"]>;
  align: string;
  maxDelayMs: string;
  split: string;
  window: string;
  overlap: string;
  prefix: string;
  stereo: "keep" | "split";
  json?: boolean;
  report?: string;
  force?: boolean;
}

export function pairCommand(): Command {
  return new Command("pair")
    .description(
      "check an input/target recording pair, find its latency, split it and count training windows",
    )
    .requiredOption("-i, --input <file>", "the dry input WAV")
    .requiredOption("-t, --target <file>", "the same audio after the effect (WAV)")
    .option("--resample", "resample the target to the input's rate when they differ")
    .addOption(
      new Option("--channels <mode>", "how channel counts must relate")
        .choices(["strict", "downmix-input", "duplicate-input"])
        .default("strict"),
    )
    .option("--align <how>", 'latency: "detect", "none", or a delay in samples', "detect")
    .option("--max-delay-ms <ms>", "largest latency searched, in milliseconds", "100")
    .option(
      "--split <spec>",
      'fractions "0.8,0.1,0.1", ranges "train=0-30,validation=30-35,test=35-40" (s), or a role',
      "0.8,0.1,0.1",
    )
    .option("--window <frames>", "target samples per training window", "8192")
    .option("--overlap <n>", "each sample appears in about n windows", "10")
    .option("--prefix <frames>", "extra input samples before each window (receptive field - 1)", "0")
    .addOption(
      new Option("--stereo <mode>", "keep channels together or split them into mono windows")
        .choices(["keep", "split"])
        .default("keep"),
    )
    .option("--json", "print the report as JSON")
    .option("--report <file>", "also write the report as JSON to this file")
    .option("--force", "overwrite the --report file if it exists")
    .action(async (options: PairCommandOptions) => {
      const [input, target] = await Promise.all([readWavFile(options.input), readWavFile(options.target)]);
      const windows: WindowOptions = {
        length: integer(options.window, "--window", 1),
        overlap: number(options.overlap, "--overlap"),
        prefix: integer(options.prefix, "--prefix", 0),
        stereo: options.stereo,
      };
      const prepared = preparePairForTraining("pair", input.audio, target.audio, {
        pair: {
          inputName: options.input,
          targetName: options.target,
          resample: options.resample ?? false,
          channels: options.channels,
          align: parseAlign(options.align),
          maxDelaySeconds: number(options.maxDelayMs, "--max-delay-ms") / 1000,
        },
        split: parseSplitSpec(options.split),
        windows,
      });
      const report = {
        input: { file: options.input, format: input.format },
        target: { file: options.target, format: target.format },
        pair: prepared.report,
        split: prepared.split,
        windows,
        roles: prepared.roles,
        warnings: [...input.warnings, ...target.warnings, ...prepared.report.warnings],
      };
      if (options.report) await writeJsonFile(options.report, report, { overwrite: options.force ?? false });
      if (options.json) {
        printJson(report);
        return;
      }
      console.log(`input:  ${options.input}: ${describeFormat(input.format)}`);
      console.log(`target: ${options.target}: ${describeFormat(target.format)}`);
      printPairReport(prepared);
      for (const warning of report.warnings) warn(warning);
    });
}

/** The human-readable part of a pair report (also used by the demo). */
export function printPairReport(prepared: PreparedPair, options: { windows?: boolean } = {}): void {
  const { report, roles } = prepared;
  console.log(
    `pair:   ${report.sampleRate} Hz, ${report.inputChannels} -> ${report.targetChannels} channel(s), ${formatSeconds(report.seconds)} after alignment`,
  );
  const { delay } = report;
  if (delay.source === "detected") {
    const { estimate } = delay;
    const ms = ((1000 * delay.delaySamples) / report.sampleRate).toFixed(2);
    console.log(
      `delay:  ${delay.delaySamples} samples (${ms} ms), by ${estimate.method}, confidence ${estimate.confidence.toFixed(2)}` +
        (estimate.fractionalDelay === undefined ? "" : `, sub-sample ${estimate.fractionalDelay.toFixed(2)}`),
    );
  } else {
    console.log(
      `delay:  ${delay.delaySamples} samples (${delay.source === "given" ? "given" : "not aligned"})`,
    );
  }
  console.log(
    `levels: input peak ${report.input.peakDb.toFixed(1)} dBFS rms ${report.input.rmsDb.toFixed(1)} dBFS; ` +
      `target peak ${report.target.peakDb.toFixed(1)} dBFS rms ${report.target.rmsDb.toFixed(1)} dBFS`,
  );
  const windows = options.windows ?? true;
  const rows = [["role", "seconds", "regions (s)", ...(windows ? ["windows"] : [])]];
  for (const role of ROLES) {
    const summary = roles[role];
    const regions =
      summary.regionsSeconds.map(([from, to]) => `${from.toFixed(2)}-${to.toFixed(2)}`).join(" ") || "-";
    rows.push([role, summary.seconds.toFixed(2), regions, ...(windows ? [String(summary.windows)] : [])]);
  }
  console.log(formatTable(rows));
}
