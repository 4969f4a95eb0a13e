import type { Role } from "../../data/split.ts";
import type { Metrics } from "../types.ts";
import type { ModelCard, ReportData } from "./data.ts";
import { escapeXml, formatNumber, formatSeconds } from "./svg.ts";

/**
 * The report page: one self-contained HTML document (inline CSS, no scripts, no network) that refers only
 * to files beside it, so it works from file:// and can be zipped and mailed. Every string that comes from
 * the user (file names, effect chains, model names, configs) is escaped. Platform-neutral.
 */

/** The fields of Metrics that hold one number. */
export type ScalarMetric = {
  [K in keyof Metrics]-?: NonNullable<Metrics[K]> extends number ? K : never;
}[keyof Metrics];

/** The metrics table's rows: each metric of src/eval/types.ts with its direction and a one-line explanation. */
export const METRIC_ROWS: readonly {
  key: ScalarMetric;
  label: string;
  /** Which value is better: lower, higher, nearer zero, or neither (information). */
  better: "lower" | "higher" | "zero" | "none";
  explanation: string;
}[] = [
  {
    key: "esr",
    label: "ESR",
    better: "lower",
    explanation:
      "Error-to-signal ratio Σ(y − ŷ)² / Σy² (Wright & Välimäki): 0 is a perfect copy, 1 an error as loud as the target.",
  },
  {
    key: "esrPreEmphasis",
    label: "ESR, pre-emphasised",
    better: "lower",
    explanation:
      "ESR after the first-order high-pass y[n] − 0.85 y[n−1] on both signals: weights the highs, as the ear does.",
  },
  {
    key: "snrDb",
    label: "SNR (dB)",
    better: "higher",
    explanation: "10 log10(target power / error power): how far the error sits below the signal.",
  },
  {
    key: "mse",
    label: "MSE",
    better: "lower",
    explanation: "Mean squared error of target − output per sample (full scale = 1).",
  },
  { key: "rmse", label: "RMSE", better: "lower", explanation: "Square root of the MSE, in sample units." },
  {
    key: "errorStd",
    label: "error std",
    better: "lower",
    explanation: "Standard deviation of target − output: the error without its constant (DC) part.",
  },
  {
    key: "mrstft",
    label: "MR-STFT",
    better: "lower",
    explanation:
      "Multi-resolution STFT distance (spectral convergence + log magnitude, auraloss defaults): spectral error, blind to phase.",
  },
  {
    key: "logSpectralDistanceDb",
    label: "log-spectral distance (dB)",
    better: "lower",
    explanation:
      "Per frame, the RMS over frequency bins of the difference of the log power spectra (dB); then the mean over frames.",
  },
  {
    key: "loudnessDifferenceDb",
    label: "loudness difference (dB)",
    better: "zero",
    explanation: "Integrated loudness of the output minus that of the target (ITU-R BS.1770); 0 is ideal.",
  },
  {
    key: "outputLoudnessLufs",
    label: "loudness (LUFS)",
    better: "none",
    explanation: "Integrated loudness (ITU-R BS.1770) of the model's output, and of the input for identity.",
  },
];

/** The files the page refers to (names relative to the page), as renderReport made them. */
export interface ReportAssets {
  audio: { input: string; target: string; output: string; residual: string };
  /** Seconds of audio in the players, and whether that is less than what was scored. */
  audioSeconds: number;
  audioCapped: boolean;
  renders: { epoch: number; esr: number; file: string }[];
  charts: { loss?: string; esr?: string; bands?: string };
  waveforms: { file: string; caption: string; width: number; height: number }[];
  spectrograms: {
    images: { label: string; file: string }[];
    width: number;
    height: number;
    /** Inline SVG markup of the axes and colour bar (made by spectrogram.ts, trusted). */
    frequencyAxis: string;
    timeAxis: string;
    colorBar: string;
    caption: string;
  } | null;
}

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a; margin: 0; background: #f6f7f9; }
main { max-width: 1060px; margin: 0 auto; padding: 20px 28px 60px; background: white; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #dde1e6; }
h3 { font-size: 15px; margin: 20px 0 8px; }
p.sub { color: #5b6670; margin: 0 0 8px; }
nav a { margin-right: 14px; color: #2a6db0; text-decoration: none; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid #dde1e6; padding: 4px 9px; text-align: left; vertical-align: top; }
thead th { background: #f0f2f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.win { background: #e9f6ec; }
table.card th { width: 190px; background: #f7f8fa; font-weight: 600; }
td.explain { color: #4d5862; font-size: 13px; }
code, pre { font: 12.5px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { white-space: pre-wrap; margin: 4px 0; }
ul.files { margin: 0; padding-left: 18px; }
audio { width: 320px; height: 36px; vertical-align: middle; }
figure { margin: 12px 0 18px; overflow-x: auto; }
figcaption { color: #4d5862; font-size: 13px; margin-top: 4px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.spec { display: grid; grid-template-columns: auto auto auto; align-items: start; justify-content: start; }
.spec img { display: block; image-rendering: auto; }
.spec .label { grid-column: 1 / span 3; font-weight: 600; margin: 10px 0 2px; }
.note { color: #5b6670; font-size: 13px; }
footer { margin-top: 40px; color: #5b6670; font-size: 12.5px; border-top: 1px solid #dde1e6; padding-top: 10px; }
`;

function text(value: unknown): string {
  return escapeXml(String(value));
}

function code(value: string): string {
  return `<code>${escapeXml(value)}</code>`;
}

function seconds(range: [number, number]): string {
  return `${range[0].toFixed(2)}–${range[1].toFixed(2)} s`;
}

/** The model card's rows as [label, HTML] pairs (only those with something to show). */
export function cardRows(card: ModelCard): [string, string][] {
  const rows: [string, string][] = [];
  const add = (label: string, html: string | undefined | false) => {
    if (html) rows.push([label, html]);
  };
  add(
    "Model",
    (card.name ? text(card.name) : "") +
      (card.modelFile ? ` ${card.name ? "— " : ""}${code(card.modelFile)}` : ""),
  );
  add(
    "Architecture",
    card.architecture &&
      text(card.architecture) +
        (card.config
          ? ` <details><summary>config</summary><pre>${escapeXml(JSON.stringify(card.config, null, 1))}</pre></details>`
          : ""),
  );
  add("Preset", card.preset && text(card.preset));
  add("Parameters", card.parameters !== undefined && text(card.parameters.toLocaleString("en-US")));
  add(
    "Receptive field",
    card.receptiveField !== undefined &&
      `${text(card.receptiveField)} samples` +
        (card.sampleRate ? ` (${text(formatSeconds(card.receptiveField / card.sampleRate))})` : ""),
  );
  add(
    "Sample rate",
    card.sampleRate !== undefined &&
      `${text(card.sampleRate)} Hz` +
        (card.channels !== undefined
          ? `, ${text(card.channels)} channel${card.channels === 1 ? "" : "s"}`
          : ""),
  );
  const training: string[] = [];
  if (card.epochs !== undefined) training.push(`${text(card.epochs)} epoch${card.epochs === 1 ? "" : "s"}`);
  if (card.trainingSeconds !== undefined) training.push(`in ${text(formatSeconds(card.trainingSeconds))}`);
  if (card.stopReason) training.push(`(${text(card.stopReason)})`);
  add("Training", training.length > 0 && training.join(" "));
  add(
    "Best epoch",
    card.bestEpoch !== undefined &&
      card.bestEpoch !== null &&
      `${text(card.bestEpoch)}` +
        (card.bestValidationEsr !== undefined && card.bestValidationEsr !== null
          ? ` (validation ESR ${text(formatNumber(card.bestValidationEsr))}); the model holds this epoch's weights`
          : ""),
  );
  add("Learning rate", card.learningRate !== undefined && text(formatNumber(card.learningRate)));
  add("Loss", card.loss !== undefined && code(JSON.stringify(card.loss)));
  add("Seed", card.seed !== undefined && text(card.seed));
  const data: string[] = [];
  if (card.data?.files?.length) {
    data.push(`<ul class="files">${card.data.files.map((file) => `<li>${code(file)}</li>`).join("")}</ul>`);
  }
  if (card.data?.effect) data.push(`effect chain: ${code(card.data.effect)}`);
  if (card.data?.material) data.push(`material: ${text(card.data.material)}`);
  add("Training data", data.length > 0 && data.join("<br>"));
  if (card.splits?.length) {
    const lines = card.splits.map((split) => {
      const roles = (["train", "validation", "test"] as Role[])
        .filter((role) => (split.regions[role]?.length ?? 0) > 0)
        .map((role) => `${role} ${split.regions[role]!.map(seconds).join(", ")}`);
      return `${text(split.name)} (${text(split.seconds.toFixed(2))} s): ${text(roles.join(" · ") || "unused")}`;
    });
    add("Split", lines.join("<br>"));
  }
  add(
    "Latency removed",
    card.latencyRemovedSamples !== undefined &&
      `${text(card.latencyRemovedSamples)} samples` +
        (card.sampleRate ? ` (${text(formatSeconds(card.latencyRemovedSamples / card.sampleRate))})` : "") +
        " (the target was shifted earlier by this much before training)",
  );
  add(
    "Created",
    (card.createdAt || card.deepspVersion) &&
      [card.createdAt && text(card.createdAt), card.deepspVersion && `deepsp ${text(card.deepspVersion)}`]
        .filter(Boolean)
        .join(", "),
  );
  return rows;
}

function winner(
  better: "lower" | "higher" | "zero" | "none",
  model: number,
  identity: number,
): "model" | "identity" | null {
  if (better === "none" || !(Number.isFinite(model) || Number.isFinite(identity)) || model === identity)
    return null;
  const score = (value: number) =>
    Number.isNaN(value)
      ? Number.POSITIVE_INFINITY
      : better === "lower"
        ? value
        : better === "higher"
          ? -value
          : Math.abs(value);
  return score(model) < score(identity) ? "model" : "identity";
}

function metricsTable(data: ReportData): string {
  const { model, identity } = data.evaluation.comparison;
  const rows = METRIC_ROWS.filter((row) => model[row.key] !== undefined).map((row) => {
    const m = model[row.key] ?? Number.NaN;
    const i = identity[row.key] ?? Number.NaN;
    const win = winner(row.better, m, i);
    const cell = (value: number, side: "model" | "identity") =>
      `<td class="num ${side}${win === side ? " win" : ""}" data-value="${text(value)}">${text(formatNumber(value))}</td>`;
    let explanation = row.explanation;
    if (row.key === "outputLoudnessLufs" && model.targetLoudnessLufs !== undefined) {
      explanation += ` The target: ${formatNumber(model.targetLoudnessLufs)} LUFS.`;
    }
    if (row.key === "mrstft" && model.mrstftFftSizes && model.mrstftFftSizes.join() !== "1024,2048,512") {
      explanation += ` FFT sizes used (short audio): ${model.mrstftFftSizes.join(", ") || "none"}.`;
    }
    const better = { lower: "lower", higher: "higher", zero: "nearer 0", none: "—" }[row.better];
    return (
      `<tr data-metric="${row.key}"><th>${text(row.label)}</th>${cell(m, "model")}${cell(i, "identity")}` +
      `<td>${better}</td><td class="explain">${text(explanation)}</td></tr>`
    );
  });
  return (
    `<table class="metrics" id="metrics-table"><thead><tr><th>metric</th><th>model</th><th>identity (input passed through)</th>` +
    `<th>better</th><th>what it measures</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
  );
}

function bandTable(data: ReportData): string {
  const { model, identity } = data.evaluation.comparison;
  if (model.bands.length === 0) return "";
  const rows = model.bands.map((band, index) => {
    const other = identity.bands[index];
    const win = other ? winner("lower", band.esr, other.esr) : null;
    return (
      `<tr><td class="num">${text(formatNumber(band.centerHz, 4))}</td><td class="num">${text(formatNumber(band.lowHz, 4))}–${text(formatNumber(band.highHz, 4))}</td>` +
      `<td class="num model${win === "model" ? " win" : ""}" data-value="${text(band.esr)}">${text(formatNumber(band.esr))}</td>` +
      `<td class="num identity${win === "identity" ? " win" : ""}">${other ? text(formatNumber(other.esr)) : "—"}</td></tr>`
    );
  });
  return (
    `<table class="bands" id="band-table"><thead><tr><th>centre (Hz)</th><th>band (Hz)</th><th>model ESR</th><th>identity ESR</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`
  );
}

function img(file: string, alt: string, size?: { width: number; height: number }): string {
  const dims = size ? ` width="${size.width}" height="${size.height}"` : "";
  return `<img src="${escapeXml(file)}" alt="${escapeXml(alt)}"${dims}>`;
}

function player(file: string, label: string): string {
  return `<audio controls preload="metadata" src="${escapeXml(file)}" aria-label="${escapeXml(label)}"></audio>`;
}

/** The whole page. */
export function buildReportHtml(data: ReportData, assets: ReportAssets): string {
  const { evaluation, card } = data;
  const { comparison } = evaluation;
  const createdAt = data.createdAt ?? new Date().toISOString();
  const sections: string[] = [];

  // --- header
  sections.push(
    `<header><h1>${text(data.title)}</h1>`,
    `<p class="sub">deepsp report, made ${text(createdAt)}</p>`,
    ...(data.notes ?? []).map((note) => `<p class="note">${text(note)}</p>`),
    `<nav><a href="#card">model</a><a href="#metrics">metrics</a><a href="#listen">listen</a>` +
      (data.training ? `<a href="#training">training</a>` : "") +
      `<a href="#waveforms">waveforms</a>` +
      (assets.spectrograms ? `<a href="#spectrograms">spectrograms</a>` : "") +
      `</nav></header>`,
  );

  // --- model card
  const rows = cardRows(card)
    .map(([label, html]) => `<tr><th>${text(label)}</th><td>${html}</td></tr>`)
    .join("");
  sections.push(`<section id="card"><h2>Model card</h2><table class="card">${rows}</table></section>`);

  // --- metrics
  const scored = comparison.frames / comparison.sampleRate;
  const recorded = evaluation.recordedEsr
    ? `<p class="note" id="recorded-esr">${text(evaluation.recordedEsr.label)}: ESR ${text(formatNumber(evaluation.recordedEsr.value))}` +
      ` (the same audio, measured by the trainer's batch evaluation).</p>`
    : "";
  sections.push(
    `<section id="metrics"><h2>Metrics</h2>`,
    `<p>Scored on ${text(evaluation.description)}: ${text(comparison.frames.toLocaleString("en-US"))} samples per channel ` +
      `(${text(formatSeconds(scored))}) at ${text(comparison.sampleRate)} Hz, model output from the streaming runtime. ` +
      `“Identity” scores the input passed through unchanged: a model must beat it to be worth running. The better value is shaded.</p>`,
    metricsTable(data),
    recorded,
    `<h3>ESR per octave band</h3>`,
    `<p class="note">The error of each band (both signals band-passed to one octave), so a model that is right in the mids ` +
      `but wrong in the highs shows where.</p>`,
    `<div class="charts">${bandTable(data)}${assets.charts.bands ? `<figure>${img(assets.charts.bands, "ESR per octave band, model and identity")}</figure>` : ""}</div>`,
    `</section>`,
  );

  // --- players
  const cap = assets.audioCapped
    ? `The players hold the first ${text(formatSeconds(assets.audioSeconds))} of the ${text(formatSeconds(scored))} scored.`
    : `The players hold all ${text(formatSeconds(assets.audioSeconds))} scored.`;
  const playerRows = [
    ["input", assets.audio.input, "what went into the effect and the model"],
    ["target", assets.audio.target, "the effect's output (what the model should sound like)"],
    ["model output", assets.audio.output, "the model's output from the streaming runtime"],
    [
      "residual",
      assets.audio.residual,
      "target − output: what the model gets wrong (silence would be perfect)",
    ],
  ] as const;
  sections.push(
    `<section id="listen"><h2>Listen</h2>`,
    `<p class="note">16-bit PCM WAV files beside this page, at ${text(comparison.sampleRate)} Hz. ${cap} Levels are as they are, not normalised; the residual can clip where the model is far off.</p>`,
    `<table class="players"><tbody>${playerRows
      .map(
        ([label, file, note]) =>
          `<tr><th>${text(label)}</th><td>${player(file, label)}</td><td class="explain">${text(note)}</td></tr>`,
      )
      .join("")}</tbody></table>`,
  );
  if (assets.renders.length > 0) {
    sections.push(
      `<h3>Renders during training</h3>`,
      `<p class="note">The same audio through the model as it was after each listed epoch (epoch 0: untrained). ESR against the target over the rendered audio.</p>`,
      `<table class="renders" id="render-table"><thead><tr><th>epoch</th><th>ESR</th><th>output</th></tr></thead><tbody>${assets.renders
        .map(
          (render) =>
            `<tr><td class="num">${text(render.epoch)}</td><td class="num" data-value="${text(render.esr)}">${text(formatNumber(render.esr))}</td>` +
            `<td>${player(render.file, `epoch ${render.epoch}`)}</td></tr>`,
        )
        .join("")}</tbody></table>`,
    );
  }
  sections.push(`</section>`);

  // --- training curves
  if (data.training && (assets.charts.loss || assets.charts.esr)) {
    sections.push(
      `<section id="training"><h2>Training</h2><div class="charts">`,
      assets.charts.loss ? `<figure>${img(assets.charts.loss, "loss per epoch")}</figure>` : "",
      assets.charts.esr ? `<figure>${img(assets.charts.esr, "validation ESR per epoch")}</figure>` : "",
      `</div><p class="note">Log scales. Epoch 0 is the untrained model's validation; the dashed line marks the best epoch (the weights kept).</p></section>`,
    );
  }

  // --- waveforms
  sections.push(
    `<section id="waveforms"><h2>Waveforms</h2>`,
    ...assets.waveforms.map(
      (waveform) =>
        `<figure>${img(waveform.file, waveform.caption, waveform)}<figcaption>${text(waveform.caption)}</figcaption></figure>`,
    ),
    `</section>`,
  );

  // --- spectrograms
  const spectrograms = assets.spectrograms;
  if (spectrograms) {
    const figures = spectrograms.images
      .map(
        (image, index) =>
          `<div class="label">${text(image.label)}</div>${spectrograms.frequencyAxis}` +
          img(image.file, `spectrogram: ${image.label}`, spectrograms) +
          // One gradient id per copy of the colour bar: ids must be unique in a page.
          spectrograms.colorBar
            .replaceAll("#viridis)", `#viridis-${index})`)
            .replace('id="viridis"', `id="viridis-${index}"`) +
          `<div></div>${spectrograms.timeAxis}<div></div>`,
      )
      .join("");
    sections.push(
      `<section id="spectrograms"><h2>Spectrograms</h2><figure><div class="spec">${figures}</div>`,
      `<figcaption>${text(spectrograms.caption)}</figcaption></figure></section>`,
    );
  }

  sections.push(
    `<footer>Made by deepsp. Colour map: viridis (van der Walt &amp; Smith), matplotlib's 256-colour table (CC0). Charts: vega-lite rendered to SVG. ESR: Wright &amp; Välimäki; ` +
      `MR-STFT: Yamamoto et al. / auraloss; loudness: ITU-R BS.1770.</footer>`,
  );

  return (
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${text(data.title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n` +
    sections.filter((section) => section !== "").join("\n") +
    `\n</main>\n</body>\n</html>\n`
  );
}
