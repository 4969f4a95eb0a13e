import { type Audio, frameCount, makeAudio, mixToMono, sliceFrames } from "../../audio/audio.ts";
import { encodeWav } from "../../audio/wav.ts";
import { bandChartSpec, chartSvg, esrChartSpec, lossChartSpec } from "./charts.ts";
import type { ReportData } from "./data.ts";
import { buildReportHtml, type ReportAssets } from "./html.ts";
import {
  colorBarSvg,
  frequencyAxisSvg,
  peakDb,
  type Spectrogram,
  spectrogram,
  spectrogramRgba,
  timeAxisSvg,
} from "./spectrogram.ts";
import { formatSeconds } from "./svg.ts";
import { findSteadySegment, findTransient, waveformSvg } from "./waveform.ts";

/**
 * Turns ReportData into the report's files: index.html plus the assets it refers to (WAV players, SVG
 * charts and waveforms, PNG spectrograms), as names and contents. Platform-neutral: the PNG encoder is
 * passed in (src/node/report.ts gives pngjs's), and writing the files is the caller's.
 */

export interface ReportFile {
  /** A plain file name (no folders), relative to index.html. */
  name: string;
  data: Uint8Array | string;
}

export interface RenderReportOptions {
  /** RGBA pixels (width x height x 4, row-major) -> PNG file bytes. */
  encodePng: (width: number, height: number, rgba: Uint8Array) => Uint8Array;
  /** Seconds of audio in the players, waveforms and spectrograms (the metrics use all of it). Default 30. */
  maxAudioSeconds?: number;
}

/** Colours of the two overlaid lines: target behind, output in front. */
const TARGET_COLOR = "#1f6fb4";
const OUTPUT_COLOR = "#e4572e";
/** The spectrograms' dynamic range below the loudest pixel. */
const SPECTROGRAM_RANGE_DB = 90;

/** index.html last: a reader that sees it can rely on every asset being there. */
export async function renderReport(data: ReportData, options: RenderReportOptions): Promise<ReportFile[]> {
  const files: ReportFile[] = [];
  const { evaluation } = data;
  const sampleRate = evaluation.target.sampleRate;
  const maxFrames = Math.max(1, Math.round((options.maxAudioSeconds ?? 30) * sampleRate));
  const scoredFrames = frameCount(evaluation.target);
  const frames = Math.min(scoredFrames, maxFrames);
  const cut = (audio: Audio) => sliceFrames(audio, 0, frames);
  const input = cut(evaluation.input);
  const target = cut(evaluation.target);
  const output = cut(evaluation.output);
  const residual = makeAudio(
    sampleRate,
    target.channels.map((channel, c) => {
      const out = output.channels[c]!;
      return channel.map((value, i) => value - out[i]!);
    }),
  );

  // --- audio players (16-bit PCM: small, and every browser plays it)
  const wav = (audio: Audio) => encodeWav(audio, { encoding: "pcm16" });
  const audio = { input: "input.wav", target: "target.wav", output: "output.wav", residual: "residual.wav" };
  files.push(
    { name: audio.input, data: wav(input) },
    { name: audio.target, data: wav(target) },
    { name: audio.output, data: wav(output) },
    { name: audio.residual, data: wav(residual) },
  );
  const renders = (data.renders ?? [])
    .slice()
    .sort((a, b) => a.epoch - b.epoch)
    .map((render) => {
      const file = `render-epoch-${String(render.epoch).padStart(4, "0")}.wav`;
      files.push({
        name: file,
        data: wav(sliceFrames(render.audio, 0, Math.min(frameCount(render.audio), maxFrames))),
      });
      return { epoch: render.epoch, esr: render.esr, file };
    });

  // --- charts
  const charts: ReportAssets["charts"] = {};
  if (data.training && data.training.history.length > 0) {
    files.push({ name: "loss.svg", data: await chartSvg(lossChartSpec(data.training)) });
    files.push({ name: "esr.svg", data: await chartSvg(esrChartSpec(data.training, renders)) });
    charts.loss = "loss.svg";
    charts.esr = "esr.svg";
  }
  const { model, identity } = evaluation.comparison;
  if (model.bands.some((band) => Number.isFinite(band.esr) && band.esr > 0)) {
    files.push({ name: "bands.svg", data: await chartSvg(bandChartSpec(model.bands, identity.bands)) });
    charts.bands = "bands.svg";
  }

  // --- waveforms (mono mixes: what the ear gets from both speakers)
  const waveforms: ReportAssets["waveforms"] = [];
  if (frames > 0) {
    const y = mixToMono(target);
    const yhat = mixToMono(output);
    const series = [
      { label: "target", color: TARGET_COLOR, samples: y },
      { label: "model output", color: OUTPUT_COLOR, samples: yhat },
    ];
    const views: { name: string; title: string; start: number; end: number; caption: string }[] = [
      {
        name: "waveform-whole.svg",
        title: "Whole scored audio",
        start: 0,
        end: frames,
        caption: `All ${formatSeconds(frames / sampleRate)} shown, min/max per pixel column (every peak is drawn).`,
      },
    ];
    const onset = findTransient(y, sampleRate);
    const before = Math.round(0.01 * sampleRate);
    const after = Math.round(0.04 * sampleRate);
    const tStart = Math.max(0, Math.min(onset - before, frames - before - after));
    views.push({
      name: "waveform-transient.svg",
      title: "Transient: the largest onset",
      start: tStart,
      end: Math.min(frames, tStart + before + after),
      caption: `50 ms around the largest energy rise (at ${formatSeconds(onset / sampleRate)}): attack and transient response.`,
    });
    const steady = findSteadySegment(y, sampleRate, 0.1);
    const half = Math.round(0.015 * sampleRate);
    const middle = Math.round((steady.start + steady.end) / 2);
    const sStart = Math.max(0, Math.min(middle - half, frames - 2 * half));
    views.push({
      name: "waveform-steady.svg",
      title: "Steady tone: the steadiest loud stretch",
      start: sStart,
      end: Math.min(frames, sStart + 2 * half),
      caption: `30 ms from the middle of the 100 ms whose level varies least (at ${formatSeconds(sStart / sampleRate)}): the waveshape of a held sound.`,
    });
    for (const view of views) {
      if (view.end - view.start < 2) continue;
      const width = 900;
      const height = 240;
      files.push({
        name: view.name,
        data: waveformSvg({
          title: view.title,
          sampleRate,
          series,
          start: view.start,
          end: view.end,
          width,
          height,
        }),
      });
      waveforms.push({
        file: view.name,
        caption: `${view.title}. ${view.caption} Times from the start of the scored audio.`,
        width,
        height,
      });
    }
  }

  // --- spectrograms, one colour scale for all three so they compare by colour
  let spectrograms: ReportAssets["spectrograms"] = null;
  if (frames > 0) {
    const specs: [string, string, Spectrogram][] = [
      ["target", "spectrogram-target.png", spectrogram(mixToMono(target), sampleRate)],
      ["model output", "spectrogram-output.png", spectrogram(mixToMono(output), sampleRate)],
      [
        "residual (target − output)",
        "spectrogram-residual.png",
        spectrogram(mixToMono(residual), sampleRate),
      ],
    ];
    const top = peakDb(specs[0]![2], specs[1]![2]);
    const ceilDb = Number.isFinite(top) ? Math.ceil(top / 10) * 10 : 0;
    const range = { floorDb: ceilDb - SPECTROGRAM_RANGE_DB, ceilDb };
    for (const [, name, spec] of specs) {
      files.push({ name, data: options.encodePng(spec.width, spec.height, spectrogramRgba(spec, range)) });
    }
    const first = specs[0]![2];
    spectrograms = {
      images: specs.map(([label, file]) => ({ label, file })),
      width: first.width,
      height: first.height,
      frequencyAxis: frequencyAxisSvg(first),
      timeAxis: timeAxisSvg(first.seconds, first.width),
      colorBar: colorBarSvg(range, first.height),
      caption:
        `STFT magnitude (Hann window, ${first.fftSize}-point FFT, ${first.width} frames over ${formatSeconds(first.seconds)}), ` +
        `in dB where a full-scale sine reads 0 dB, one colour scale for all three (${range.floorDb} to ${range.ceilDb} dB, viridis). ` +
        `Frequency on a logarithmic axis from ${Math.round(first.minHz)} Hz to ${Math.round(first.maxHz)} Hz (Nyquist), so every octave gets the same height.`,
    };
  }

  const assets: ReportAssets = {
    audio,
    audioSeconds: frames / sampleRate,
    audioCapped: frames < scoredFrames,
    renders,
    charts,
    waveforms,
    spectrograms,
  };
  files.push({ name: "index.html", data: buildReportHtml(data, assets) });
  return files;
}
