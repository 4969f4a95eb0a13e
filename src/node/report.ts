import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import pngjs from "pngjs";
import { z } from "zod";
import { preparePair } from "../data/pair.ts";
import type { Role, Split } from "../data/split.ts";
import type { SplitPair } from "../data/windows.ts";
import { compare } from "../eval/metrics.ts";
import type {
  ModelCard,
  ReportData,
  ReportEvaluation,
  ReportRender,
  ReportSplit,
} from "../eval/report/data.ts";
import { type RenderReportOptions, renderReport } from "../eval/report/render.ts";
import { runRegions, scoredSources } from "../eval/report/run.ts";
import type { ModelFile } from "../io/model-file.ts";
import type { PlayableModel } from "../io/playable.ts";
import { FileError, readFileBytes, readWavFile, writeFileAtomic } from "./files.ts";
import { readModelFile } from "./model-files.ts";

/**
 * The report in Node: PNG encoding (pngjs), writing the report folder, and rebuilding a training run's report
 * from its folder (train-log.json, the model file, the pair audio and the renders named there).
 */

/** RGBA pixels (width x height x 4, row-major) -> PNG bytes (8-bit RGBA, zlib via pngjs). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const png = new pngjs.PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return new Uint8Array(pngjs.PNG.sync.write(png));
}

/**
 * Writes the report for `data` into `folder` (created if needed): index.html and its assets beside it,
 * each atomically, replacing files of an earlier report; index.html is written last. Returns its path.
 */
export async function writeReport(
  data: ReportData,
  folder: string,
  options: Omit<RenderReportOptions, "encodePng"> = {},
): Promise<string> {
  const files = await renderReport(data, { ...options, encodePng });
  await mkdir(folder, { recursive: true });
  // The assets together (each write waits for its fsync: in parallel they overlap), then the page.
  const write = (file: (typeof files)[number]) =>
    writeFileAtomic(join(folder, file.name), file.data, { overwrite: true });
  await Promise.all(files.filter((file) => file.name !== "index.html").map(write));
  await Promise.all(files.filter((file) => file.name === "index.html").map(write));
  return join(folder, "index.html");
}

/** What `deepsp train` writes into a run folder (the fields the report reads). */
const trainLogSchema = z.looseObject({
  preset: z.string().optional(),
  model: z.looseObject({ architecture: z.string() }).optional(),
  settings: z.looseObject({
    burnIn: z.number().int().min(0).default(0),
    learningRate: z.number().optional(),
    seed: z.number().optional(),
    loss: z.unknown().optional(),
  }),
  pairs: z
    .array(
      z.looseObject({
        name: z.string(),
        files: z.tuple([z.string(), z.string()]),
        report: z.looseObject({
          sampleRate: z.number(),
          frames: z.number().int(),
          seconds: z.number(),
          channelHandling: z.enum(["as-is", "downmix-input", "duplicate-input"]),
          resampledTargetFromHz: z.number().optional(),
          delay: z.looseObject({ delaySamples: z.number().int() }),
        }),
        split: z.looseObject({
          frames: z.number().int(),
          sampleRate: z.number(),
          regions: z.partialRecord(
            z.enum(["train", "validation", "test"]),
            z.array(z.object({ start: z.number().int(), end: z.number().int() })),
          ),
        }),
      }),
    )
    .min(1),
  result: z.looseObject({
    bestEsr: z.number().nullable(),
    bestEpoch: z.number().int().nullable(),
    epochsRun: z.number().int(),
    reason: z.string().optional(),
    seconds: z.number().optional(),
    history: z.array(
      z.looseObject({
        epoch: z.number(),
        trainLoss: z.number().nullable(),
        validationEsr: z.number().nullable(),
        validationLoss: z.number().nullable().optional(),
        learningRate: z.number().optional(),
        seconds: z.number().optional(),
      }),
    ),
    initialValidation: z
      .object({ esr: z.number().nullable(), loss: z.number().nullable() })
      .nullable()
      .optional(),
  }),
  test: z.object({ testEsr: z.number().optional(), identityTestEsr: z.number().optional() }).optional(),
  renders: z
    .array(z.object({ epoch: z.number().int(), esr: z.number().nullable(), file: z.string() }))
    .optional(),
  /** The model file, relative to the run folder. */
  modelFile: z.string().optional(),
  /** Where deepsp train ran: relative pair paths are relative to it. */
  workingDirectory: z.string().optional(),
});

export type TrainLog = z.output<typeof trainLogSchema>;

/** Reads and checks `<runDir>/train-log.json`; errors name the file (and the field). */
export async function readTrainLog(runDir: string): Promise<TrainLog> {
  const path = join(runDir, "train-log.json");
  const bytes = await readFileBytes(path);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new FileError("file/invalid", `${path}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const result = trainLogSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new FileError(
      "file/invalid",
      `${path}: ${issue.path.join(".") || "the log"}: ${issue.message} (is this a deepsp train run folder?)`,
    );
  }
  return result.data;
}

/** The first candidate that exists, else the first (so the read error names where it was looked for). */
function locate(path: string, bases: (string | undefined)[]): string {
  if (isAbsolute(path)) return path;
  const candidates = bases.filter((base) => base !== undefined).map((base) => resolve(base, path));
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0] ?? path;
}

/** JSON has no NaN or infinities: JSON.stringify wrote them as null. */
const orNaN = (value: number | null | undefined): number => value ?? Number.NaN;

/**
 * Rebuilds a training run's report from its folder: reads train-log.json, the model file and the pair audio
 * it names (relative paths as deepsp train saw them, else from here), prepares the pairs exactly as training
 * did (same latency shift, channel handling and split), runs the model with the streaming runtime over the
 * test regions (the validation regions when there is no test), scores it with `compare`, collects the renders
 * and writes `<runDir>/report/index.html` with its assets. Returns the page's path. A missing or unreadable
 * file is a FileError naming it.
 */
export async function buildRunReport(
  runDir: string,
  options: { folder?: string; maxAudioSeconds?: number } = {},
): Promise<string> {
  const log = await readTrainLog(runDir);
  const bases = [log.workingDirectory, process.cwd()];
  const modelPath = log.modelFile
    ? locate(log.modelFile, [runDir, ...bases])
    : join(dirname(resolve(runDir)), `${basename(runDir).replace(/\.run$/, "")}.json`);
  const file = await readModelFile(modelPath);
  const { model } = file;
  const burnIn = log.settings.burnIn;

  // The pairs, prepared as training prepared them; only those the report scores are read.
  const wanted: Role = log.pairs.some((part) => (part.split.regions["test"]?.length ?? 0) > 0)
    ? "test"
    : "validation";
  const parts: SplitPair[] = [];
  for (const part of log.pairs) {
    if ((part.split.regions[wanted]?.length ?? 0) === 0) continue;
    const [inputPath, targetPath] = part.files.map((path) => locate(path, bases)) as [string, string];
    const [x, y] = await Promise.all([readWavFile(inputPath), readWavFile(targetPath)]);
    const { pair, report } = preparePair(x.audio, y.audio, {
      inputName: inputPath,
      targetName: targetPath,
      resample: part.report.resampledTargetFromHz !== undefined,
      channels: part.report.channelHandling === "as-is" ? "strict" : part.report.channelHandling,
      align: part.report.delay.delaySamples,
    });
    if (report.frames !== part.report.frames) {
      throw new FileError(
        "file/changed",
        `${inputPath} / ${targetPath}: the pair has ${report.frames} frames after alignment, but training had ${part.report.frames}: the files changed since ${join(runDir, "train-log.json")} was written`,
      );
    }
    parts.push({ name: part.name, pair, split: part.split as unknown as Split });
  }
  const { role, sources } = scoredSources(parts);
  const scored = runRegions(model, sources, { burnIn });
  const sampleRate = scored.target.sampleRate;
  const comparison = compare(
    scored.output.channels,
    scored.target.channels,
    scored.input.channels,
    sampleRate,
  );

  const regionsText = sources
    .map(
      (source) =>
        `${source.name} ${source.regions.map((region) => `${(region.start / sampleRate).toFixed(2)}–${(region.end / sampleRate).toFixed(2)} s`).join(", ")}`,
    )
    .join("; ");
  const description =
    `the ${role} region${scored.pieces.length === 1 ? "" : "s"} (${regionsText})` +
    (scored.skipped > 0
      ? `, less the first ${scored.skipped} samples of each (receptive field − 1${burnIn > 0 ? " + burn-in" : ""}: run as history, not scored)`
      : "");

  const renders: ReportRender[] = [];
  for (const render of log.renders ?? []) {
    const wav = await readWavFile(resolve(runDir, render.file));
    renders.push({ epoch: render.epoch, esr: orNaN(render.esr), audio: wav.audio });
  }

  const training = file.metadata.training ?? {};
  const splits: ReportSplit[] = log.pairs.map((part) => ({
    name: part.name,
    files: part.files,
    seconds: part.report.seconds,
    regions: Object.fromEntries(
      Object.entries(part.split.regions).map(([r, regions]) => [
        r,
        regions.map(
          (region) =>
            [region.start / part.split.sampleRate, region.end / part.split.sampleRate] as [number, number],
        ),
      ]),
    ),
  }));
  const card = modelCard(file, modelPath);
  const preset = log.preset ?? card.preset;
  const data: ReportData = {
    title: `${card.name}: ${model.architecture}${preset ? ` (${preset})` : ""}`,
    card: {
      ...card,
      ...(preset ? { preset } : {}),
      trainingSeconds:
        training.trainingSeconds ?? log.result.history.reduce((sum, epoch) => sum + (epoch.seconds ?? 0), 0),
      epochs: log.result.epochsRun,
      bestEpoch: log.result.bestEpoch,
      bestValidationEsr: log.result.bestEsr,
      ...(log.result.reason ? { stopReason: log.result.reason } : {}),
      ...(log.settings.learningRate !== undefined ? { learningRate: log.settings.learningRate } : {}),
      ...(log.settings.loss !== undefined ? { loss: log.settings.loss } : {}),
      ...(log.settings.seed !== undefined ? { seed: log.settings.seed } : {}),
      data: {
        files: training.data?.files ?? log.pairs.flatMap((part) => part.files),
        ...(training.data?.effect ? { effect: training.data.effect } : {}),
        ...(training.data?.material ? { material: training.data.material } : {}),
      },
      splits,
    },
    evaluation: {
      description,
      comparison,
      input: scored.input,
      target: scored.target,
      output: scored.output,
      ...(role === "test" && log.test?.testEsr !== undefined
        ? { recordedEsr: { label: "deepsp train's test ESR (train-log.json)", value: log.test.testEsr } }
        : role === "validation" && log.result.bestEsr !== null
          ? { recordedEsr: { label: "best validation ESR (train-log.json)", value: log.result.bestEsr } }
          : {}),
    },
    training: {
      history: log.result.history.map((epoch) => ({
        epoch: epoch.epoch,
        trainLoss: orNaN(epoch.trainLoss),
        validationEsr: orNaN(epoch.validationEsr),
        validationLoss: orNaN(epoch.validationLoss),
        ...(epoch.learningRate !== undefined ? { learningRate: epoch.learningRate } : {}),
        ...(epoch.seconds !== undefined ? { seconds: epoch.seconds } : {}),
      })),
      initialValidation: log.result.initialValidation
        ? { esr: orNaN(log.result.initialValidation.esr), loss: orNaN(log.result.initialValidation.loss) }
        : null,
      bestEpoch: log.result.bestEpoch,
    },
    renders,
    notes: [
      ...(training.data?.effect ? [`Emulates: ${training.data.effect}`] : []),
      `Run folder: ${resolve(runDir)}`,
    ],
  };
  return writeReport(data, options.folder ?? join(runDir, "report"), {
    ...(options.maxAudioSeconds !== undefined ? { maxAudioSeconds: options.maxAudioSeconds } : {}),
  });
}

/**
 * The model card a model file alone gives (name, architecture, size, rate, training provenance from its
 * metadata); a run report overrides what train-log.json knows better.
 */
export function modelCard(file: ModelFile, modelPath: string): ModelCard {
  const { model, metadata } = file;
  const training = metadata.training ?? {};
  const preset = typeof training["preset"] === "string" ? training["preset"] : undefined;
  return {
    name: metadata.name ?? basename(modelPath).replace(/\.json$/, ""),
    modelFile: modelPath,
    architecture: model.architecture,
    config: model.toConfig() as unknown as Record<string, unknown>,
    ...(preset ? { preset } : {}),
    parameters: model.parameters.count,
    receptiveField: model.receptiveField,
    sampleRate: file.sampleRate,
    channels: model.channels,
    ...(training.trainingSeconds !== undefined ? { trainingSeconds: training.trainingSeconds } : {}),
    ...(training.epochs !== undefined ? { epochs: training.epochs } : {}),
    ...(training.bestEpoch !== undefined ? { bestEpoch: training.bestEpoch } : {}),
    ...(metadata.metrics?.validationEsr !== undefined
      ? { bestValidationEsr: metadata.metrics.validationEsr }
      : {}),
    ...(training.learningRate !== undefined ? { learningRate: training.learningRate } : {}),
    ...(training.loss !== undefined ? { loss: training.loss } : {}),
    ...(training.seed !== undefined ? { seed: training.seed } : {}),
    ...(metadata.latencyRemovedSamples !== undefined
      ? { latencyRemovedSamples: metadata.latencyRemovedSamples }
      : {}),
    ...(training.data ? { data: training.data } : {}),
    createdAt: metadata.createdAt,
    deepspVersion: metadata.deepspVersion,
  };
}

/**
 * The card of any playable model: a deepsp model's full card, or what a .nam file says (name, size, rate;
 * a .nam plays through NAM's player, so its architecture is the file's).
 */
export function playableCard(model: PlayableModel): ModelCard {
  const base = model.file ? modelCard(model.file, model.source) : {};
  const name = model.nam?.metadata.name;
  return {
    ...base,
    ...(typeof name === "string" ? { name } : base.name ? {} : { name: basename(model.source) }),
    modelFile: model.source,
    architecture: model.architecture,
    parameters: model.parameters,
    ...(model.receptiveField !== null ? { receptiveField: model.receptiveField } : {}),
    sampleRate: model.sampleRate,
    channels: model.channels,
  };
}

/** An evaluation's report (`deepsp eval --report <folder>`): the model card, the scores and the audio; no curves. */
export function writeEvalReport(
  model: PlayableModel,
  evaluation: ReportEvaluation,
  folder: string,
  options: { maxAudioSeconds?: number } = {},
): Promise<string> {
  const card = playableCard(model);
  return writeReport(
    {
      title: `${card.name}: ${model.architecture}, evaluated`,
      card,
      evaluation,
      notes: [`Evaluated on ${evaluation.description}`],
    },
    folder,
    options,
  );
}
