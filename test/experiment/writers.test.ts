import assert from "node:assert/strict";
import { test } from "node:test";
import type { Metrics } from "../../src/eval/types.ts";
import type { HistoryPoint, TrainingSummary } from "../../src/experiment/cell.ts";
import { timeToQuality } from "../../src/experiment/cell.ts";
import { parseExperimentConfig } from "../../src/experiment/config.ts";
import { expandGrid, type RunLimits } from "../../src/experiment/grid.ts";
import { escapeHtml, esrColour, summaryHtml } from "../../src/experiment/html.ts";
import { escapeMarkdown, resultsMarkdown } from "../../src/experiment/markdown.ts";
import {
  buildResults,
  CELL_FORMAT,
  type CellRecord,
  formatEsr,
  grade,
  type ResultsFile,
} from "../../src/experiment/results.ts";

const EVIL = `<script>alert("x")</script> | a & b`;

const config = parseExperimentConfig({
  name: "writers",
  description: `a test of ${EVIL}`,
  budget: { epochs: 10, seconds: 100 },
  qualityEsr: 0.01,
  architectures: ["linear-256", "lstm-16", "tcn-small"],
  materials: {
    train: [{ name: "sweeps", kind: "sweeps" }],
    test: [{ name: "piano", kind: "piano" }],
  },
  effects: [
    { name: "lowpass", description: `filter ${EVIL}`, chain: "lowpass" },
    { name: "echo", chain: "echo" },
  ],
});
const limits: RunLimits = { epochs: 10, seconds: 100, patience: null, materialSeconds: null };

function metrics(esr: number): Metrics {
  return {
    mse: esr / 10,
    rmse: Math.sqrt(esr / 10),
    errorStd: 0,
    esr,
    esrPreEmphasis: esr,
    snrDb: -10 * Math.log10(esr),
    mrstft: 1,
    logSpectralDistanceDb: 1,
    loudnessDifferenceDb: 0,
    bands: [],
  };
}

function summary(history: HistoryPoint[], parameters: number): TrainingSummary {
  return {
    preset: "x",
    architecture: "x",
    parameters,
    receptiveField: 1,
    epochs: history.length,
    bestEpoch: history.length,
    validationEsr: history.at(-1)?.validationEsr ?? null,
    initialValidationEsr: 0.5,
    trainingSeconds: history.at(-1)?.seconds ?? 0,
    stopReason: "completed",
    history,
    settings: {
      learningRate: 0.01,
      batchSize: 16,
      windowLength: 4096,
      overlap: 1,
      burnIn: 0,
      truncate: null,
      loss: { type: "mse" },
      schedule: { type: "constant" },
      epochs: 10,
      seconds: 100,
      patience: null,
    },
  };
}

/** A hand-made results file: lowpass done for linear-256 and lstm-16, failed for tcn-small; echo skipped/pending. */
function handMade(): ResultsFile {
  const { cells } = expandGrid(config);
  const records = new Map<string, CellRecord>();
  const make = (id: string, fields: Partial<CellRecord>): void => {
    const spec = cells.find((cell) => cell.id === id)!;
    records.set(id, {
      format: CELL_FORMAT,
      version: 1,
      ...spec,
      experiment: "writers",
      status: "done",
      reason: null,
      chain: spec.effect === "lowpass" ? "lowpass(cutoffHz=1000, q=0.7071, order=2)" : "echo",
      preset: spec.architecture,
      fingerprint: "0",
      limits,
      training: null,
      qualityEsr: 0.01,
      timeToQualitySeconds: null,
      metrics: null,
      testEsr: null,
      identityEsr: null,
      realTimeFactor: null,
      testSeconds: 30,
      sampleRate: 48000,
      model: null,
      warnings: [],
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:01:00.000Z",
      wallSeconds: 60,
      ...fields,
    });
  };
  const done = (
    id: string,
    esr: number,
    identity: number,
    history: HistoryPoint[],
    parameters: number,
    rtf: number,
  ) =>
    make(id, {
      training: summary(history, parameters),
      metrics: { sampleRate: 48000, frames: 1440000, model: metrics(esr), identity: metrics(identity) },
      testEsr: esr,
      identityEsr: identity,
      realTimeFactor: rtf,
    });
  done(
    "lowpass.sweeps.piano.linear-256.s1",
    0.001,
    0.057,
    [
      { epoch: 1, seconds: 4, validationEsr: 0.05 },
      { epoch: 2, seconds: 8.5, validationEsr: 0.004 },
    ],
    257,
    0.016,
  );
  done(
    "lowpass.sweeps.piano.lstm-16.s1",
    0.2,
    0.057,
    [{ epoch: 1, seconds: 30, validationEsr: 0.3 }],
    1233,
    0.09,
  );
  make("lowpass.sweeps.piano.tcn-small.s1", { status: "failed", reason: `train/diverged: ${EVIL}` });
  make("echo.sweeps.piano.linear-256.s1", {
    status: "skipped",
    reason: "fluidsynth is not installed (apt-get install -y fluidsynth)",
  });
  make("echo.sweeps.piano.lstm-16.s1", {
    status: "skipped",
    reason: "fluidsynth is not installed (apt-get install -y fluidsynth)",
  });
  return buildResults(config, cells, records, limits, "2026-01-01T00:02:00.000Z");
}

test("results.json lists every cell of the grid, pending where no file exists, time-to-quality recomputed", () => {
  const results = handMade();
  assert.equal(results.cells.length, 6);
  assert.deepEqual(results.counts, { done: 2, failed: 1, skipped: 2, pending: 1 });
  const pending = results.cells.find((cell) => cell.id === "echo.sweeps.piano.tcn-small.s1")!;
  assert.equal(pending.status, "pending");
  const linear = results.cells[0] as CellRecord;
  assert.equal(linear.timeToQualitySeconds, 8.5);
  assert.equal((results.cells[1] as CellRecord).timeToQualitySeconds, null);
  assert.deepEqual(JSON.parse(JSON.stringify(results)), results, "plain JSON");
});

test("time to quality: the first epoch below the threshold, 0 when the untrained model already is, else null", () => {
  const history = [
    { epoch: 1, seconds: 3, validationEsr: 0.2 },
    { epoch: 2, seconds: 6, validationEsr: 0.009 },
    { epoch: 3, seconds: 9, validationEsr: 0.001 },
  ];
  assert.equal(timeToQuality(history, 0.5, 0.01), 6);
  assert.equal(timeToQuality(history, 0.005, 0.01), 0);
  assert.equal(timeToQuality(history, 0.5, 0.0001), null);
  assert.equal(timeToQuality([], null, 0.01), null);
});

test("grades and number formats", () => {
  assert.equal(grade(0.001, 0.057, 0.01), "excellent");
  assert.equal(grade(0.05, 0.5, 0.01), "good");
  assert.equal(grade(0.2, 0.5, 0.01), "poor");
  assert.equal(grade(0.06, 0.057, 0.01), "worse");
  assert.equal(grade(0.009, 0.001, 0.01), "worse", "worse than identity beats the threshold");
  assert.equal(grade(Number.POSITIVE_INFINITY, null, 0.01), "worse");
  assert.equal(formatEsr(0.0857), "0.0857");
  assert.equal(formatEsr(0.000012), "1.20e-5");
  assert.equal(formatEsr(193.4), "193");
  assert.equal(formatEsr(null), "–");
  assert.equal(formatEsr(Number.POSITIVE_INFINITY), "∞");
});

test("the Markdown writer: a table per pairing with architectures as columns and identity alongside", () => {
  const markdown = resultsMarkdown(handMade());
  assert.match(markdown, /^# writers\n/);
  assert.match(markdown, /\| effect: train → test \| identity \| linear-256 \| lstm-16 \| tcn-small \|/);
  assert.match(markdown, /\| lowpass: sweeps → piano \| 0\.057 \| ● 0\.001 \| ✗ 0\.2 \| failed \|/);
  assert.match(markdown, /\| echo: sweeps → piano \| – \| skipped \| skipped \| pending \|/);
  assert.match(markdown, /## lowpass: sweeps → piano\n/);
  assert.match(
    markdown,
    /\| {2}\| identity \| linear-256 \| lstm-16 \| tcn-small \|\n\| --- \| ---: \| ---: \| ---: \| ---: \|/,
  );
  assert.match(markdown, /\| test ESR \| 0\.057 \| 0\.001 \| 0\.2 \| failed \|/);
  assert.match(markdown, /\| time to validation ESR < 0\.01 \| {2}\| 8\.5 s \| never \| – \|/);
  assert.match(markdown, /\| parameters \| {2}\| 257 \| 1,233 \| – \|/);
  assert.match(markdown, /\| real-time factor \| {2}\| 0\.016 \| 0\.090 \| – \|/);
  assert.match(markdown, /Effect chain: `lowpass\(cutoffHz=1000, q=0\.7071, order=2\)`/);
  // Escaping: no raw tag, no raw pipe from the reason inside a table or list.
  assert.doesNotMatch(markdown, /<script>/);
  assert.match(markdown, /- tcn-small: failed: train/);
  assert.match(markdown, /&lt;script&gt;|&lt;script>/);
  assert.match(markdown, /\\\| a & b/);
  assert.match(
    markdown,
    /- linear-256, lstm-16: skipped: fluidsynth is not installed \(apt-get install -y fluidsynth\)\n/,
  );
  assert.doesNotMatch(markdown, /not run yet/);
  assert.equal(escapeMarkdown("a|b\nc_d"), "a\\|b c\\_d");
});

test("the HTML summary: self-contained, escaped, heatmap colours on a log scale", () => {
  assert.equal(esrColour(0.01), "hsl(60, 65%, 72%)", "1e-2 is half way between 1e-4 and 1 in log");
  assert.equal(esrColour(1e-4), "hsl(120, 65%, 72%)");
  assert.equal(esrColour(1e-6), "hsl(120, 65%, 72%)", "clamped below");
  assert.equal(esrColour(1), "hsl(0, 65%, 72%)");
  assert.equal(esrColour(50), "hsl(0, 65%, 72%)", "clamped above");
  assert.equal(esrColour(0.001), "hsl(90, 65%, 72%)");
  assert.equal(esrColour(null), "#e4e4e4");
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");

  const html = summaryHtml(handMade());
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /<script|<link|src=|href=/, "no scripts or external resources");
  assert.doesNotMatch(html, /alert\("x"\)/, "quotes inside escaped strings are escaped too");
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; \| a &amp; b/);
  // The heatmap cell of linear-256 on lowpass: ESR 0.001 -> hue 90.
  assert.match(
    html,
    /<td class="esr" style="background:hsl\(90, 65%, 72%\)"[^>]*><span class="mark">●<\/span>0\.001<\/td>/,
  );
  // lstm-16 is worse than passing the input through: marked, coloured for 0.2.
  assert.match(
    html,
    /<td class="esr worse" style="background:hsl\(\d+, 65%, 72%\)"[^>]*><span class="mark">✗<\/span>0\.2<\/td>/,
  );
  assert.match(html, /<td class="missing" title="failed: train\/diverged: &lt;script&gt;/);
  assert.match(html, /Time to quality/);
  assert.match(html, /<tr><td>parameters<\/td><td>257<\/td><td>1,233<\/td><td>–<\/td><\/tr>/);
  assert.match(html, /<tr><td>real-time factor<\/td><td>0\.016<\/td><td>0\.090<\/td><td>–<\/td><\/tr>/);
  assert.match(html, /8\.5 s/);
});
