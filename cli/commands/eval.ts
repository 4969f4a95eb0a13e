import { Command } from "commander";
import { makeAudio } from "../../src/audio/audio.ts";
import { OptionError } from "../../src/core/errors.ts";
import { type PairReport, preparePair } from "../../src/data/pair.ts";
import { compare, type DetailedComparison, type MetricDetails } from "../../src/eval/metrics.ts";
import type { PlayableModel } from "../../src/io/playable.ts";
import { readWavFile } from "../../src/node/files.ts";
import { readPlayableModel } from "../../src/node/model-io.ts";
import { writeEvalReport } from "../../src/node/report.ts";
import { processWhole } from "../../src/runtime/index.ts";
import { formatSeconds, formatTable, printJson, warn } from "../output.ts";
import { integer, number, parseAlign } from "../parse.ts";

export interface EvalOptions {
  model: string;
  input: string;
  target: string;
  align: string;
  maxDelayMs: string;
  region?: string;
  block: string;
  json?: boolean;
  report?: string;
}

/** The fields of MetricDetails that hold one number. */
type ScalarMetric = {
  [K in keyof MetricDetails]: MetricDetails[K] extends number ? K : never;
}[keyof MetricDetails];

/** The scalar metrics in the order they are printed: field, JSON key (snake_case), table label, kind. */
const METRICS: readonly { field: ScalarMetric; key: string; label: string; kind: "ratio" | "db" }[] = [
  { field: "esr", key: "esr", label: "ESR", kind: "ratio" },
  { field: "esrPreEmphasis", key: "esr_pre_emphasis", label: "ESR, pre-emphasis 0.85", kind: "ratio" },
  { field: "snrDb", key: "snr_db", label: "SNR (dB)", kind: "db" },
  { field: "mse", key: "mse", label: "MSE", kind: "ratio" },
  { field: "rmse", key: "rmse", label: "RMSE", kind: "ratio" },
  { field: "errorStd", key: "error_std", label: "error std", kind: "ratio" },
  { field: "mrstft", key: "mrstft", label: "MR-STFT", kind: "ratio" },
  {
    field: "logSpectralDistanceDb",
    key: "log_spectral_distance_db",
    label: "log-spectral distance (dB)",
    kind: "db",
  },
  {
    field: "loudnessDifferenceDb",
    key: "loudness_difference_db",
    label: "loudness difference (dB)",
    kind: "db",
  },
  { field: "outputLoudnessLufs", key: "loudness_lufs", label: "loudness (LUFS)", kind: "db" },
];

/**
 * `deepsp eval`: runs a model over an input with the streaming runtime (exactly as in real time; a mono model
 * runs once per channel), aligns the target to the input as `deepsp pair` does (latency detected by
 * default), and scores the output against the target next to the input against the target ("identity":
 * what doing nothing scores). The metrics are src/eval/metrics.ts's.
 *
 * The model runs over the whole input, so it has its real history at every sample; the scored frames are the
 * aligned pair's (the target's latency removed, lengths trimmed), shifted by the model file's own
 * `latencySamples`, optionally cut to --region (seconds on the aligned timeline).
 */
export function evalCommand(): Command {
  return new Command("eval")
    .description("score a model against a target: ESR, SNR, MR-STFT, spectra, loudness, per-band ESR")
    .requiredOption("-m, --model <file>", "model file: deepsp (.json), .nam, or RTNeural/AIDA-X (.json)")
    .requiredOption("-i, --input <file>", "the dry input WAV")
    .requiredOption("-t, --target <file>", "the same audio after the real effect (WAV)")
    .option("--align <how>", 'latency between input and target: "detect", "none", or samples', "detect")
    .option("--max-delay-ms <ms>", "largest latency searched, in milliseconds", "100")
    .option("--region <start-end>", 'score only this part, in seconds of the aligned pair, e.g. "10-20"')
    .option("--block <frames>", "block size the model runs with, as an audio host would use", "4096")
    .option("--json", "print the scores as JSON")
    .option(
      "--report <folder>",
      "also write an HTML report (players, spectrograms, waveforms) into this folder",
    )
    .action(async (options: EvalOptions) => {
      await runEval(options);
    });
}

/** Runs `deepsp eval` with these options (as commander gives them), prints the scores and returns them. */
export async function runEval(
  options: EvalOptions,
): Promise<{ comparison: DetailedComparison; reportPage: string | null }> {
  const blockSize = integer(options.block, "--block", 1);
  const align = parseAlign(options.align);
  const maxDelaySeconds = number(options.maxDelayMs, "--max-delay-ms") / 1000;
  const file = await readPlayableModel(options.model);
  const [input, target] = await Promise.all([readWavFile(options.input), readWavFile(options.target)]);
  const { pair, report } = preparePair(input.audio, target.audio, {
    inputName: options.input,
    targetName: options.target,
    align,
    maxDelaySeconds,
  });
  const sampleRate = report.sampleRate;
  if (sampleRate !== file.sampleRate) {
    throw new OptionError(
      "options/invalid",
      `${options.input} is ${sampleRate} Hz but the model was trained at ${file.sampleRate} Hz`,
    );
  }
  const channels = input.audio.channels.length;
  if (file.channels !== 1 && file.channels !== channels) {
    throw new OptionError(
      "options/invalid",
      `${options.model} maps ${file.channels} channels but ${options.input} has ${channels}`,
    );
  }

  const processor = file.createProcessor(channels);
  const output = processWhole(processor, input.audio.channels, { blockSize, sampleRate });

  // The aligned input starts `inputStart` samples into the file (a negative delay drops the input's start);
  // the model's output for input sample n appears at n + latencySamples.
  const inputStart = Math.max(0, -report.delay.delaySamples);
  const outputStart = inputStart + file.latencySamples;
  const available = Math.min(report.frames, output[0]!.length - outputStart);
  if (available < 1) {
    throw new OptionError(
      "options/invalid",
      `${options.model}: its latency of ${file.latencySamples} samples leaves nothing of ${report.frames} frames to score`,
    );
  }
  const [from, to] = options.region ? parseRegion(options.region, sampleRate, available) : [0, available];
  const cut = (channelList: readonly Float32Array[], start: number) =>
    channelList.map((channel) => channel.subarray(start + from, start + to));
  const comparison = compare(
    cut(output, outputStart),
    cut(pair.target.channels, 0),
    cut(pair.input.channels, 0),
    sampleRate,
  );

  const warnings = [...input.warnings, ...target.warnings, ...report.warnings];
  if (file.latencySamples > 0 && available < report.frames) {
    warnings.push(
      `the model's latency of ${file.latencySamples} samples leaves ${available} of ${report.frames} frames to score`,
    );
  }
  if (comparison.model.mrstftFftSizes.join() !== "1024,2048,512") {
    warnings.push(
      `only ${comparison.frames} frames: MR-STFT used FFT sizes [${(comparison.model.mrstftFftSizes).join(", ")}] instead of [1024, 2048, 512]`,
    );
  }
  let reportPage: string | null = null;
  if (options.report) {
    const scored = (channelList: readonly Float32Array[], start: number) =>
      makeAudio(sampleRate, cut(channelList, start));
    reportPage = await writeEvalReport(
      file,
      {
        description: `${options.input} → ${options.target}, ${(from / sampleRate).toFixed(2)}–${(to / sampleRate).toFixed(2)} s of the aligned pair`,
        comparison,
        input: scored(pair.input.channels, 0),
        target: scored(pair.target.channels, 0),
        output: scored(output, outputStart),
      },
      options.report,
    );
  }
  if (options.json) {
    printJson({ ...jsonReport(options, file, report, comparison, [from, to], warnings), report: reportPage });
  } else {
    printText(options, file, report, comparison, [from, to]);
    if (reportPage) console.log(`report: ${reportPage}`);
    for (const warning of warnings) warn(warning);
  }
  return { comparison, reportPage };
}

/** "start-end" in seconds -> [from, to) frames within [0, frames]. */
function parseRegion(text: string, sampleRate: number, frames: number): [number, number] {
  const match = /^\s*([0-9]*\.?[0-9]+)\s*-\s*([0-9]*\.?[0-9]+)\s*$/.exec(text);
  const start = match ? Number(match[1]) : Number.NaN;
  const end = match ? Number(match[2]) : Number.NaN;
  if (!(Number.isFinite(start) && Number.isFinite(end) && end > start)) {
    throw new OptionError(
      "options/invalid",
      `--region must be "start-end" in seconds with end > start, e.g. "10-20", got "${text}"`,
    );
  }
  const from = Math.round(start * sampleRate);
  const to = Math.round(end * sampleRate);
  const seconds = frames / sampleRate;
  if (to > frames || to - from < 1) {
    throw new OptionError(
      "options/invalid",
      `--region ${text}: the aligned pair has ${seconds.toFixed(3)} s (${frames} frames) to score`,
    );
  }
  return [from, to];
}

/** The JSON report: snake_case keys, every metric with its identity_ twin; infinities become null. */
function jsonReport(
  options: EvalOptions,
  file: PlayableModel,
  report: PairReport,
  comparison: DetailedComparison,
  [from, to]: [number, number],
  warnings: string[],
): Record<string, unknown> {
  const { model, identity, sampleRate } = comparison;
  const scores: Record<string, unknown> = {};
  for (const metric of METRICS) scores[metric.key] = model[metric.field];
  for (const metric of METRICS) scores[`identity_${metric.key}`] = identity[metric.field];
  return {
    model: options.model,
    input: options.input,
    target: options.target,
    architecture: file.architecture,
    sample_rate: sampleRate,
    channels: report.inputChannels,
    frames: comparison.frames,
    seconds: comparison.frames / sampleRate,
    region: options.region ? { start_seconds: from / sampleRate, end_seconds: to / sampleRate } : null,
    delay_samples: report.delay.delaySamples,
    delay_source: report.delay.source,
    ...(report.delay.source === "detected"
      ? { delay_method: report.delay.estimate.method, delay_confidence: report.delay.estimate.confidence }
      : {}),
    model_latency_samples: file.latencySamples,
    ...scores,
    target_loudness_lufs: model.targetLoudnessLufs,
    mrstft_fft_sizes: model.mrstftFftSizes,
    bands: model.bands.map((band, b) => ({
      center_hz: band.centerHz,
      low_hz: band.lowHz,
      high_hz: band.highHz,
      esr: band.esr,
      identity_esr: identity.bands[b]!.esr,
    })),
    warnings,
  };
}

function printText(
  options: EvalOptions,
  file: PlayableModel,
  report: PairReport,
  comparison: DetailedComparison,
  [from, to]: [number, number],
): void {
  const { model, identity, sampleRate, frames } = comparison;
  console.log(
    `model:  ${options.model}: ${file.architecture}, ${file.sampleRate} Hz, ${file.channels} channel(s)`,
  );
  const { delay } = report;
  const ms = ((1000 * delay.delaySamples) / sampleRate).toFixed(2);
  if (delay.source === "detected") {
    console.log(
      `delay:  ${delay.delaySamples} samples (${ms} ms) between input and target, by ${delay.estimate.method}, ` +
        `confidence ${delay.estimate.confidence.toFixed(2)}`,
    );
  } else {
    console.log(
      `delay:  ${delay.delaySamples} samples (${delay.source === "given" ? "given" : "not aligned"})`,
    );
  }
  const region = options.region
    ? `, region ${formatSeconds(from / sampleRate)} - ${formatSeconds(to / sampleRate)}`
    : "";
  console.log(
    `scored: ${frames} frames (${formatSeconds(frames / sampleRate)}) at ${sampleRate} Hz, ` +
      `${report.inputChannels} channel(s)${region}; target ${formatValue(model.targetLoudnessLufs, "db")} LUFS`,
  );
  console.log("");
  const rows: string[][] = [["metric", "model", "identity"]];
  for (const metric of METRICS) {
    rows.push([
      metric.label,
      formatValue(model[metric.field], metric.kind),
      formatValue(identity[metric.field], metric.kind),
    ]);
  }
  model.bands.forEach((band, b) => {
    rows.push([
      `ESR ${formatHz(band.centerHz)} band`,
      formatValue(band.esr, "ratio"),
      formatValue(identity.bands[b]!.esr, "ratio"),
    ]);
  });
  console.log(formatTable(rows));
}

function formatValue(value: number, kind: "ratio" | "db"): string {
  if (Number.isNaN(value)) return "n/a";
  if (value === Number.POSITIVE_INFINITY) return "inf";
  if (value === Number.NEGATIVE_INFINITY) return "-inf";
  if (kind === "db") return value.toFixed(2);
  if (value === 0) return "0";
  return Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4 ? value.toExponential(3) : value.toPrecision(4);
}

function formatHz(hz: number): string {
  return hz >= 1000 ? `${hz / 1000} kHz` : `${hz} Hz`;
}
