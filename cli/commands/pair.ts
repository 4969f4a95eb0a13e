import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Command, Option } from "commander";
import { describeFormat } from "../../src/audio/wav.ts";
import { OptionError } from "../../src/core/errors.ts";
import { type PreparedPair, preparePairForTraining } from "../../src/data/dataset.ts";
import type { PairOptions } from "../../src/data/pair.ts";
import { parseSplitSpec, ROLES } from "../../src/data/split.ts";
import type { WindowOptions } from "../../src/data/windows.ts";
import {
  formatChain,
  parseChain,
  renderChain,
  resolveChain,
  resolvedChain,
} from "../../src/effects/chain.ts";
import { DEEPSP_VERSION } from "../../src/io/model-file.ts";
import { nodeEffects } from "../../src/node/effect-registry.ts";
import { readWavFile, writeJsonFile, writeWavFile } from "../../src/node/files.ts";
import { formatSeconds, formatTable, printJson, warn } from "../output.ts";
import { integer, number, parseAlign, parseJson } from "../parse.ts";
import { allMaterials } from "./material.ts";

interface PairCommandOptions {
  input?: string;
  target?: string;
  material?: string;
  materialOptions?: string;
  effect?: string;
  out?: string;
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
      "check an input/target pair (find its latency, split it, count training windows), or make one from material and an effect chain",
    )
    .option("-i, --input <file>", "the dry input WAV")
    .option("-t, --target <file>", "the same audio after the effect (WAV)")
    .option("--material <kind>", "make a pair: generate this material (deepsp material list) ...")
    .option("--material-options <json>", 'its options as JSON, e.g. \'{"seconds":60,"sampleRate":44100}\'')
    .option("-e, --effect <chain>", "... render it through this effect chain (deepsp effects list) ...")
    .option("-o, --out <folder>", "... and write input.wav, target.wav and provenance.json into this folder")
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
    .option("--force", "overwrite the --report file (and a made pair's files) if they exist")
    .action(async (options: PairCommandOptions) => {
      const files = options.material ? await makePair(options) : checkedFiles(options);
      const [input, target] = await Promise.all([readWavFile(files.input), readWavFile(files.target)]);
      const windows: WindowOptions = {
        length: integer(options.window, "--window", 1),
        overlap: number(options.overlap, "--overlap"),
        prefix: integer(options.prefix, "--prefix", 0),
        stereo: options.stereo,
      };
      const prepared = preparePairForTraining("pair", input.audio, target.audio, {
        pair: {
          inputName: files.input,
          targetName: files.target,
          resample: options.resample ?? false,
          channels: options.channels,
          align: parseAlign(options.align),
          maxDelaySeconds: number(options.maxDelayMs, "--max-delay-ms") / 1000,
        },
        split: parseSplitSpec(options.split),
        windows,
      });
      const report = {
        input: { file: files.input, format: input.format },
        target: { file: files.target, format: target.format },
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
      console.log(`input:  ${files.input}: ${describeFormat(input.format)}`);
      console.log(`target: ${files.target}: ${describeFormat(target.format)}`);
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

/** Check mode: -i and -t name the pair. */
function checkedFiles(options: PairCommandOptions): { input: string; target: string } {
  if (!options.input || !options.target || options.effect || options.out) {
    throw new OptionError(
      "options/invalid",
      "give -i/--input and -t/--target to check a pair, or --material, --effect and --out to make one",
    );
  }
  return { input: options.input, target: options.target };
}

/**
 * Make mode: generates the material, renders it through the chain and writes input.wav, target.wav (float32)
 * and provenance.json (material, options, the chain as a string and as resolved JSON, the effect latency)
 * into the --out folder. Returns the paths for the usual pair report.
 */
async function makePair(options: PairCommandOptions): Promise<{ input: string; target: string }> {
  if (!options.effect || !options.out || options.input || options.target) {
    throw new OptionError("options/invalid", "--material needs --effect and --out (and no -i/-t)");
  }
  const kind = allMaterials().find((candidate) => candidate.name === options.material);
  if (!kind) {
    const names = allMaterials()
      .map((candidate) => candidate.name)
      .join(", ");
    throw new OptionError("options/invalid", `unknown material "${options.material}" (valid: ${names})`);
  }
  const materialOptions = options.materialOptions
    ? parseJson(options.materialOptions, "--material-options")
    : {};
  const steps = resolveChain(parseChain(options.effect), nodeEffects());
  const reason = await kind.unavailableReason();
  if (reason) throw new OptionError("options/invalid", `material ${kind.name}: ${reason}`);
  const input = await kind.generate(materialOptions as Record<string, unknown>);
  const rendered = await renderChain(input, steps);
  await mkdir(options.out, { recursive: true });
  const paths = { input: join(options.out, "input.wav"), target: join(options.out, "target.wav") };
  const overwrite = options.force === true;
  await writeWavFile(paths.input, input, { overwrite });
  await writeWavFile(paths.target, rendered.audio, { overwrite });
  const chain = resolvedChain(steps);
  await writeJsonFile(
    join(options.out, "provenance.json"),
    {
      material: { kind: kind.name, options: kind.schema.parse(materialOptions) },
      effect: { chain: formatChain(chain), steps: chain },
      effectLatencySamples: rendered.latencySamples,
      sampleRate: input.sampleRate,
      channels: input.channels.length,
      seconds: input.channels[0]!.length / input.sampleRate,
      createdAt: new Date().toISOString(),
      deepspVersion: DEEPSP_VERSION,
    },
    { overwrite },
  );
  console.log(
    `made ${options.out}: ${kind.name} -> ${formatChain(chain)} (effect latency ${rendered.latencySamples} samples)`,
  );
  return paths;
}
