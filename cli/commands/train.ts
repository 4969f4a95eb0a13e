import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join, parse, relative, resolve } from "node:path";
import { Command, Option } from "commander";
import { DeepspError, OptionError } from "../../src/core/errors.ts";
import { type PreparedPair, preparePairForTraining } from "../../src/data/dataset.ts";
import type { PairOptions } from "../../src/data/pair.ts";
import { parseSplitSpec, type Role, type SplitSpec } from "../../src/data/split.ts";
import { esrOf, runRegions, scoredSources } from "../../src/eval/report/run.ts";
import type { Model } from "../../src/nn/models/model.ts";
import { findPreset, type Preset } from "../../src/nn/models/presets.ts";
import {
  ARCHITECTURES,
  type Architecture,
  createModel,
  parseModelConfig,
} from "../../src/nn/models/registry.ts";
import {
  checkpointPath,
  checkpointSaver,
  readRunCheckpoint,
  removeTemporaryFiles,
} from "../../src/node/checkpoints.ts";
import { readWavFile, writeJsonFile, writeWavFile } from "../../src/node/files.ts";
import { writeModelFile } from "../../src/node/model-files.ts";
import { createParallelGradients, defaultThreads } from "../../src/node/parallel/gradients.ts";
import { buildRunReport } from "../../src/node/report.ts";
import { evaluateSources } from "../../src/train/evaluate.ts";
import type { LossConfig } from "../../src/train/losses/index.ts";
import { activationBudget, train } from "../../src/train/trainer.ts";
import { warn } from "../output.ts";
import { integer, number, parseAlign, parseJson } from "../parse.ts";
import { TrainingProgress } from "../progress.ts";
import { printPairReport } from "./pair.ts";

/** The preset `--arch` picks when no `--preset` is given: the family's best size for training in JS. */
const DEFAULT_PRESET: Record<Architecture, string> = {
  linear: "linear-256",
  mlp: "mlp-study",
  seedconv: "seedconv-study",
  tcn: "tcn-small",
  wavenet: "wavenet-lite",
  lstm: "lstm-16",
  gru: "gru-16",
};

interface TrainCommandOptions {
  input: string;
  target: string;
  split?: string;
  valInput?: string;
  valTarget?: string;
  testInput?: string;
  testTarget?: string;
  preset?: string;
  arch?: Architecture;
  modelConfig?: string;
  epochs: string;
  batchSize?: string;
  lr?: string;
  lrDecay?: string;
  window?: string;
  burnIn?: string;
  truncate?: string;
  overlap: string;
  patience?: string;
  clipNorm?: string;
  loss?: string;
  seed: string;
  align: string;
  maxDelayMs: string;
  resample?: boolean;
  channels: NonNullable<PairOptions["channels"]>;
  stereo: "auto" | "keep" | "split";
  out: string;
  runDir?: string;
  resume?: boolean;
  force?: boolean;
  quiet?: boolean;
  threads: string;
  microBatch?: string;
  memory: string;
  renderEvery?: string;
  /** false with --no-report. */
  report: boolean;
}

/** Seconds of held-out audio each render holds (the report's players hold as much). */
const RENDER_SECONDS = 30;

/** One render of the held-out audio during training, as train-log.json records it. */
interface RenderRecord {
  epoch: number;
  /** ESR of the render against the target (over the rendered audio). */
  esr: number;
  /** The WAV file, relative to the run folder. */
  file: string;
}

export function trainCommand(): Command {
  return new Command("train")
    .description(
      "train a model on an input/target pair and save it (checkpoints every epoch, --resume to continue)",
    )
    .requiredOption("-i, --input <file>", "the dry input WAV")
    .requiredOption("-t, --target <file>", "the same audio after the effect (WAV)")
    .option(
      "--split <spec>",
      'how to divide the pair: "0.8,0.1,0.1", "train=0-30,validation=30-35", or a role (default 0.8,0.1,0.1, or "train" with --val-input)',
    )
    .option("--val-input <file>", "a separate validation pair: input WAV")
    .option("--val-target <file>", "a separate validation pair: target WAV")
    .option("--test-input <file>", "a separate test pair: input WAV (e.g. train on sweeps, test on piano)")
    .option("--test-target <file>", "a separate test pair: target WAV")
    .addOption(new Option("--arch <name>", "architecture (picks its default preset)").choices(ARCHITECTURES))
    .option("--preset <name>", "a named model + training recipe (deepsp presets lists them); default lstm-16")
    .option("--model-config <json>", "a model config as JSON, replacing the preset's model")
    .option("--epochs <n>", "epochs to train", "30")
    .option("--batch-size <n>", "windows per optimizer step (default: the preset's)")
    .option("--lr <rate>", "initial learning rate (default: the preset's)")
    .option(
      "--lr-decay <gamma>",
      "multiply the learning rate by gamma after every epoch (default: the preset's schedule)",
    )
    .option("--window <frames>", "target samples per training window (default: the preset's)")
    .option(
      "--burn-in <frames>",
      "recurrent models: samples run without loss at the start of each window (default: the preset's)",
    )
    .option(
      "--truncate <frames>",
      "recurrent models: cut the gradient every this many samples (default: the preset's)",
    )
    .option("--overlap <n>", "each sample lands in about n windows per epoch", "2")
    .option("--patience <n>", "stop after n epochs without validation improvement", "10")
    .option(
      "--micro-batch <n>",
      "convolutional models: run each batch through the model n windows at a time (less memory, more compute; default: from --memory)",
    )
    .option(
      "--memory <MiB>",
      "convolutional models: pass as many windows at a time as keep the process near this size",
      "1024",
    )
    .option("--clip-norm <n>", "clip the gradient norm")
    .option("--loss <json>", "a loss config as JSON, replacing the preset's loss")
    .option("--seed <n>", "seed for initialisation and shuffling", "1")
    .option("--align <how>", 'latency: "detect", "none", or a delay in samples', "detect")
    .option("--max-delay-ms <ms>", "largest latency searched, in milliseconds", "100")
    .option("--resample", "resample targets to the input's rate when they differ")
    .addOption(
      new Option("--channels <mode>", "how channel counts must relate")
        .choices(["strict", "downmix-input", "duplicate-input"])
        .default("strict"),
    )
    .addOption(
      new Option(
        "--stereo <mode>",
        "stereo pairs: keep channels together (models with a channels option) or split into mono",
      )
        .choices(["auto", "keep", "split"])
        .default("auto"),
    )
    .option("-o, --out <file>", "the model file to write", "model.json")
    .option("--run-dir <folder>", "checkpoints and the training log (default: <out>.run next to --out)")
    .option("--resume", "continue the run in --run-dir from its last checkpoint")
    .option("--force", "replace --out and start over in a --run-dir that has checkpoints")
    .option(
      "--threads <n>",
      'threads computing each batch\'s gradient (data-parallel; "auto": one per core)',
      "auto",
    )
    .option("--quiet", "no progress bar")
    .option(
      "--render-every <k>",
      "render the test audio (validation when there is none; first 30 s) every k epochs and before training, into <run-dir>/renders",
    )
    .option("--no-report", "do not build the HTML report (<run-dir>/report/index.html) at the end")
    .action(runTrain);
}

async function runTrain(options: TrainCommandOptions): Promise<void> {
  const runDir = options.runDir ?? join(dirname(options.out), `${parse(options.out).name}.run`);
  const overwriteOut = options.force === true || options.resume === true;
  if (existsSync(options.out) && !overwriteOut) {
    throw new OptionError(
      "options/invalid",
      `${options.out} already exists (pass --force to replace it, or --resume to continue its run)`,
    );
  }
  if (!options.resume && !options.force && existsSync(checkpointPath(runDir, "last"))) {
    throw new OptionError(
      "options/invalid",
      `${runDir} has checkpoints of an earlier run: pass --resume to continue it or --force to start over`,
    );
  }

  const preset = choosePreset(options);
  const parts = await loadParts(options);
  const sampleRate = parts[0]!.report.sampleRate;
  const audioChannels = parts[0]!.pair.input.channels.length;
  const modelConfig = chooseModelConfig(options, preset, audioChannels);
  const stereo =
    options.stereo === "auto"
      ? "channels" in modelConfig && audioChannels > 1
        ? "keep"
        : "split"
      : options.stereo;
  if (stereo === "keep" && audioChannels > 1 && !("channels" in modelConfig)) {
    throw new OptionError(
      "options/invalid",
      `--stereo keep needs a model with a channels option; ${modelConfig.architecture} is mono (use --stereo split)`,
    );
  }
  for (const part of parts) {
    console.log(`\n${part.name}:`);
    printPairReport(part, { windows: false }); // the trainer reports its windows once the model is known
  }
  if (!parts.some((part) => part.split.regions.validation.length > 0)) {
    throw new OptionError(
      "options/invalid",
      "no validation audio: give --split with a validation share, or --val-input/--val-target",
    );
  }

  const seed = integer(options.seed, "--seed", 0);
  const settings = {
    epochs: integer(options.epochs, "--epochs", 1),
    batchSize: options.batchSize ? integer(options.batchSize, "--batch-size", 1) : preset.training.batchSize,
    learningRate: options.lr ? number(options.lr, "--lr") : preset.training.learningRate,
    schedule: options.lrDecay
      ? ({ type: "exponential", gamma: number(options.lrDecay, "--lr-decay") } as const)
      : preset.training.schedule,
    loss: options.loss ? (parseJson(options.loss, "--loss") as LossConfig) : preset.training.loss,
    windowLength: options.window ? integer(options.window, "--window", 1) : preset.training.windowLength,
    overlap: number(options.overlap, "--overlap"),
    stereo,
    burnIn: options.burnIn ? integer(options.burnIn, "--burn-in", 0) : (preset.training.burnIn ?? 0),
    truncate: options.truncate
      ? integer(options.truncate, "--truncate", 1)
      : (preset.training.truncate ?? null),
    clipNorm: options.clipNorm ? number(options.clipNorm, "--clip-norm") : null,
    patience: options.patience ? integer(options.patience, "--patience", 1) : null,
    seed,
  };

  await mkdir(runDir, { recursive: true });
  await removeTemporaryFiles(runDir);
  const resumeFrom = options.resume ? await readRunCheckpoint(runDir, "last") : null;
  if (options.resume && !resumeFrom)
    throw new OptionError("options/invalid", `--resume: ${runDir} has no checkpoint to continue from`);
  const model = createModel(resumeFrom ? resumeFrom.model.config : modelConfig, { seed });
  console.log(
    `\nmodel: ${model.architecture} (${preset.name}), ${model.parameters.count} parameters, receptive field ${model.receptiveField}`,
  );
  console.log(`run folder: ${runDir}`);

  // Renders of the held-out audio every k epochs (the study listened to its epochs): renders/epoch-XXXX.wav,
  // listed in renders/renders.json as they are made (an interrupted run keeps its list for --resume).
  const renderEvery = options.renderEvery ? integer(options.renderEvery, "--render-every", 1) : null;
  const renders = await previousRenders(runDir, resumeFrom ? resumeFrom.epochsCompleted : null);
  const renderSources = scoredSources(parts).sources;
  const render = async (epoch: number, current: Model): Promise<void> => {
    const scored = runRegions(current, renderSources, {
      burnIn: settings.burnIn,
      maxFrames: Math.round(RENDER_SECONDS * sampleRate),
    });
    const file = `renders/epoch-${String(epoch).padStart(4, "0")}.wav`;
    await mkdir(join(runDir, "renders"), { recursive: true });
    await writeWavFile(join(runDir, file), scored.output, { encoding: "pcm16", overwrite: true });
    renders.push({ epoch, esr: esrOf(scored.target, scored.output), file });
    await writeJsonFile(join(runDir, "renders", "renders.json"), renders, { overwrite: true });
  };
  if (renderEvery !== null && !resumeFrom) await render(0, model);

  const threads = options.threads === "auto" ? defaultThreads() : integer(options.threads, "--threads", 1);
  const progress = new TrainingProgress({ sampleRate, quiet: options.quiet === true });
  const abort = new AbortController();
  const onInterrupt = () => {
    if (abort.signal.aborted) process.exit(130);
    console.error("\nstopping after this batch (Ctrl-C again to quit at once)...");
    abort.abort();
  };
  process.on("SIGINT", onInterrupt);
  let result: Awaited<ReturnType<typeof train>>;
  try {
    result = await train({
      ...(resumeFrom ? resumeFrom.settings : {}),
      ...settings,
      model,
      parts,
      onEvent: (event) => progress.handle(event),
      saveCheckpoint: checkpointSaver(runDir),
      ...(renderEvery !== null
        ? {
            afterEpoch: async ({ epoch, model: current }) => {
              if (epoch % renderEvery === 0) await render(epoch, current);
            },
          }
        : {}),
      ...(resumeFrom ? { resumeFrom } : {}),
      signal: abort.signal,
      gradients: (setup) => createParallelGradients(setup, threads),
      microBatch: options.microBatch
        ? integer(options.microBatch, "--micro-batch", 1)
        : { budgetBytes: activationBudget(number(options.memory, "--memory") * 2 ** 20, parts, threads) },
    });
  } finally {
    process.off("SIGINT", onInterrupt);
  }
  if (result.bestEpoch === null) {
    throw new DeepspError(
      "train/nothing",
      "training stopped before the first epoch finished: no model was written",
    );
  }

  const test = testScores(model, parts, settings.burnIn);
  await writeModelFile(
    options.out,
    {
      model,
      sampleRate,
      metadata: {
        name: parse(options.out).name,
        training: {
          data: { files: parts.flatMap((part) => part.files), ...(await pairProvenance(options.input)) },
          split: Object.fromEntries(parts.map((part) => [part.name, part.split])),
          loss: result.settings.loss as unknown as Record<string, unknown>,
          epochs: result.epochsRun,
          bestEpoch: result.bestEpoch,
          trainingSeconds: result.history.reduce((sum, epoch) => sum + epoch.seconds, 0),
          seed,
          learningRate: result.settings.learningRate,
          preset: preset.name,
        },
        metrics: { validationEsr: result.bestEsr ?? undefined, ...test },
        latencyRemovedSamples: parts[0]!.report.delay.delaySamples,
      },
    },
    { overwrite: overwriteOut },
  );
  await writeJsonFile(
    join(runDir, "train-log.json"),
    {
      preset: preset.name,
      model: model.toConfig(),
      settings: result.settings,
      pairs: parts.map((part) => ({
        name: part.name,
        files: part.files,
        report: part.report,
        split: part.split,
      })),
      result: { ...result, settings: undefined },
      test,
      renders,
      modelFile: relative(runDir, resolve(options.out)),
      workingDirectory: process.cwd(),
    },
    { overwrite: true },
  );

  console.log(
    `\n${result.reason === "stopped" ? "stopped" : "done"} after ${result.epochsRun} epochs (${(result.seconds / 60).toFixed(1)} min)`,
  );
  console.log(`best validation ESR ${result.bestEsr!.toExponential(3)} at epoch ${result.bestEpoch}`);
  if (test.testEsr !== undefined) {
    console.log(
      `test ESR ${test.testEsr.toExponential(3)} (passing the input through: ${test.identityTestEsr!.toExponential(3)})`,
    );
  }
  console.log(`model: ${options.out}\nlog and checkpoints: ${runDir}`);
  if (renders.length > 0) console.log(`renders: ${renders.length} in ${join(runDir, "renders")}`);
  if (options.report) {
    // The model and the log are written: a report that fails costs a warning, not the run.
    try {
      console.log(`report: ${await buildRunReport(runDir)}`);
    } catch (error) {
      warn(`the report was not written: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/**
 * The renders an earlier run left: kept up to `upToEpoch` when resuming, removed when starting over (null),
 * so the folder never lists renders of another run.
 */
async function previousRenders(runDir: string, upToEpoch: number | null): Promise<RenderRecord[]> {
  const folder = join(runDir, "renders");
  if (!existsSync(folder)) return [];
  if (upToEpoch === null) {
    for (const name of await readdir(folder)) {
      if (/^epoch-\d+\.wav$/.test(name) || name === "renders.json")
        await rm(join(folder, name), { force: true });
    }
    return [];
  }
  try {
    const list = JSON.parse(await readFile(join(folder, "renders.json"), "utf8")) as RenderRecord[];
    return list.filter((entry) => entry.epoch <= upToEpoch && existsSync(join(runDir, entry.file)));
  } catch {
    return []; // no list (or an unreadable one): the renders before the resume are not shown
  }
}

/**
 * What `deepsp pair --material --effect` recorded next to the input it made (material, effect chain), so the
 * model file says what it emulates. Empty for recordings.
 */
async function pairProvenance(input: string): Promise<Record<string, unknown>> {
  const path = join(dirname(input), "provenance.json");
  if (!existsSync(path)) return {};
  try {
    const provenance = JSON.parse(await readFile(path, "utf8")) as {
      material?: { kind?: string };
      effect?: { chain?: string };
    };
    return { effect: provenance.effect?.chain, material: provenance.material?.kind, provenance };
  } catch {
    return {}; // a provenance file we cannot read is not a reason to lose a trained model
  }
}

/**
 * The training recipe: --preset, else the default preset of --arch or of --model-config's architecture,
 * else lstm-16. With --model-config the preset supplies only the training defaults.
 */
function choosePreset(options: TrainCommandOptions): Preset {
  const configArchitecture = options.modelConfig
    ? parseModelConfig(parseJson(options.modelConfig, "--model-config"), "--model-config").architecture
    : undefined;
  const architecture = options.arch ?? configArchitecture;
  const preset = findPreset(options.preset ?? DEFAULT_PRESET[architecture ?? "lstm"]);
  for (const [flag, wanted] of [
    ["--arch", options.arch],
    ["--model-config", configArchitecture],
  ] as const) {
    if (wanted && preset.model.architecture !== wanted) {
      throw new OptionError(
        "options/invalid",
        `--preset ${preset.name} is a ${preset.model.architecture} model, but ${flag} is ${wanted}`,
      );
    }
  }
  return preset;
}

/** The preset's (or --model-config's) model, widened to the audio's channel count when it can map several. */
function chooseModelConfig(options: TrainCommandOptions, preset: Preset, audioChannels: number) {
  const config = parseModelConfig(
    options.modelConfig ? parseJson(options.modelConfig, "--model-config") : preset.model,
    "--model-config",
  );
  if ("channels" in config && options.stereo !== "split" && audioChannels > 1)
    return { ...config, channels: audioChannels };
  return config;
}

interface LoadedPart extends PreparedPair {
  files: string[];
}

/** Reads, checks, aligns and splits the main pair and the optional separate validation / test pairs. */
async function loadParts(options: TrainCommandOptions): Promise<LoadedPart[]> {
  const pairOptions = {
    resample: options.resample ?? false,
    channels: options.channels,
    align: parseAlign(options.align),
    maxDelaySeconds: number(options.maxDelayMs, "--max-delay-ms") / 1000,
  };
  const separate = (role: Role, input?: string, target?: string) => {
    if ((input === undefined) !== (target === undefined)) {
      throw new OptionError(
        "options/invalid",
        `--${role === "validation" ? "val" : "test"}-input and --${role === "validation" ? "val" : "test"}-target go together`,
      );
    }
    return input && target ? { role, input, target } : null;
  };
  const extra = [
    separate("validation", options.valInput, options.valTarget),
    separate("test", options.testInput, options.testTarget),
  ].filter((entry) => entry !== null);
  const separateValidation = extra.some((entry) => entry.role === "validation");
  const mainSplit = parseSplitSpec(options.split ?? (separateValidation ? "train" : "0.8,0.1,0.1"));
  const load = async (name: string, input: string, target: string, split: SplitSpec): Promise<LoadedPart> => {
    const [x, y] = await Promise.all([readWavFile(input), readWavFile(target)]);
    const prepared = preparePairForTraining(name, x.audio, y.audio, {
      pair: { ...pairOptions, inputName: input, targetName: target },
      split,
      windows: { length: 1 },
    });
    return { ...prepared, files: [input, target] };
  };
  const parts = [await load("pair", options.input, options.target, mainSplit)];
  for (const entry of extra)
    parts.push(await load(entry.role, entry.input, entry.target, { kind: "whole", role: entry.role }));
  const rates = new Set(parts.map((part) => part.report.sampleRate));
  if (rates.size > 1)
    throw new OptionError(
      "options/invalid",
      `all pairs must share one sample rate, got ${[...rates].join(" and ")} Hz`,
    );
  return parts;
}

/** Test-region scores of the trained model, and of passing the input through unchanged (the baseline). */
function testScores(
  model: Model,
  parts: readonly LoadedPart[],
  burnIn: number,
): { testEsr?: number; identityTestEsr?: number } {
  const sources = parts
    .filter((part) => part.split.regions.test.length > 0)
    .map((part) => ({ pair: part.pair, regions: part.split.regions.test }));
  if (sources.length === 0) return {};
  const testEsr = evaluateSources(model, sources, { burnIn }).esr;
  let error = 0;
  let signal = 0;
  for (const { pair, regions } of sources) {
    for (const region of regions) {
      pair.target.channels.forEach((target, c) => {
        const input = pair.input.channels[c]!;
        for (let t = region.start; t < region.end; t++) {
          error += (target[t]! - input[t]!) ** 2;
          signal += target[t]! ** 2;
        }
      });
    }
  }
  return { testEsr, identityTestEsr: error / signal };
}
