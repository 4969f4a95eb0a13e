import assert from "node:assert/strict";
import { test } from "node:test";
import pngjs from "pngjs";
import { type Audio, makeAudio } from "../../src/audio/audio.ts";
import { decodeWav } from "../../src/audio/wav.ts";
import { compare } from "../../src/eval/metrics.ts";
import type { ReportData } from "../../src/eval/report/data.ts";
import { buildReportHtml, METRIC_ROWS, type ReportAssets } from "../../src/eval/report/html.ts";
import { renderReport } from "../../src/eval/report/render.ts";
import { spectrogram, spectrogramRgba, viridis } from "../../src/eval/report/spectrogram.ts";
import { escapeXml, formatNumber, niceTicks } from "../../src/eval/report/svg.ts";
import {
  findSteadySegment,
  findTransient,
  minMaxDecimate,
  waveformSvg,
} from "../../src/eval/report/waveform.ts";
import { encodePng } from "../../src/node/report.ts";

const HOSTILE = `<script>alert("x")</script> & 'quotes'`;

/**
 * Checks that `markup` is well-formed: every element closed in order (HTML void elements excepted), no
 * stray "<" or "&" in text or attributes. A small stand-in for an XML parser (Node has none built in); the
 * end-to-end test also parses every SVG with Chromium's DOMParser.
 */
function assertWellFormed(markup: string, what: string, html = false): void {
  const voidElements = new Set(["meta", "img", "br", "hr", "input", "link", "source"]);
  const body = markup.replace(/^<!doctype html>/i, "").replace(/<!--[\s\S]*?-->/g, "");
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"<]*")?)*)\s*(\/?)>/g;
  let last = 0;
  for (let match = tag.exec(body); match; match = tag.exec(body)) {
    const between = body.slice(last, match.index);
    assert.ok(
      !between.includes("<"),
      `${what}: a stray "<" or malformed tag near ${JSON.stringify(between.slice(0, 80))}`,
    );
    assert.ok(
      !/&(?!(amp|lt|gt|quot|#\d+);)/.test(between),
      `${what}: an unescaped "&" in ${JSON.stringify(between.slice(0, 80))}`,
    );
    last = tag.lastIndex;
    const [, closing, name, attributes, selfClosing] = match;
    assert.ok(
      !/&(?!(amp|lt|gt|quot|#\d+);)/.test(attributes!),
      `${what}: an unescaped "&" in <${name}${attributes}>`,
    );
    if (closing) {
      assert.equal(stack.pop(), name, `${what}: </${name}> closes the wrong element`);
    } else if (!selfClosing && !(html && voidElements.has(name!.toLowerCase()))) {
      stack.push(name!);
    }
  }
  assert.ok(!body.slice(last).includes("<"), `${what}: a stray "<" at the end`);
  assert.deepEqual(stack, [], `${what}: unclosed elements`);
}

function tone(seconds: number, sampleRate: number, hz: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: Math.round(seconds * sampleRate) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate),
  );
}

/** ReportData for 1 s at 8 kHz: the target a tone, the output a little off, the input quieter. */
function sampleData(): ReportData {
  const sampleRate = 8000;
  const target = tone(1, sampleRate, 440);
  const output = target.map((v, i) => 0.9 * v + 0.01 * Math.sin(i));
  const input = target.map((v) => 0.5 * v);
  const audio = (channel: Float32Array): Audio => makeAudio(sampleRate, [channel]);
  return {
    title: `Report for ${HOSTILE}`,
    createdAt: "2026-01-01T00:00:00.000Z",
    card: {
      name: HOSTILE,
      modelFile: `models/${HOSTILE}.json`,
      architecture: "linear",
      config: { architecture: "linear", taps: 64, note: HOSTILE },
      preset: "linear-64",
      parameters: 65,
      receptiveField: 64,
      sampleRate,
      channels: 1,
      trainingSeconds: 3.5,
      epochs: 2,
      bestEpoch: 2,
      bestValidationEsr: 0.05,
      loss: { type: "esr" },
      seed: 1,
      latencyRemovedSamples: 12,
      data: {
        files: [`in ${HOSTILE}.wav`, "target.wav"],
        effect: `drive(gainDb=20) | <lowpass> & "co"`,
        material: "standard",
      },
      splits: [
        {
          name: "pair",
          seconds: 10,
          files: ["a.wav", "b.wav"],
          regions: { train: [[0, 8]], validation: [[8, 9]], test: [[9, 10]] },
        },
      ],
    },
    evaluation: {
      description: `the test region (${HOSTILE})`,
      comparison: compare([output], [target], [input], sampleRate),
      input: audio(input),
      target: audio(target),
      output: audio(output),
      recordedEsr: { label: "recorded", value: 0.0123 },
    },
    training: {
      history: [
        { epoch: 1, trainLoss: 0.2, validationEsr: 0.1, validationLoss: 0.15 },
        { epoch: 2, trainLoss: 0.1, validationEsr: 0.05, validationLoss: 0.08 },
      ],
      initialValidation: { esr: 1, loss: 0.5 },
      bestEpoch: 2,
    },
    renders: [
      { epoch: 2, esr: 0.05, audio: audio(output) },
      { epoch: 0, esr: 1, audio: audio(input) },
    ],
    notes: [`note ${HOSTILE}`],
  };
}

test("escaping and number formatting", () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  assert.equal(formatNumber(0.012345678), "0.01235");
  assert.equal(formatNumber(1.5e-7), "1.500e-7");
  assert.equal(formatNumber(0), "0");
  assert.equal(formatNumber(Number.POSITIVE_INFINITY), "∞");
  assert.equal(formatNumber(Number.NaN), "n/a");
  assert.deepEqual(niceTicks(-0.5, 0.5, 4), [-0.5, 0, 0.5]);
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
});

test("the page is well-formed, escapes user strings and has the players, tables and images", async () => {
  const data = sampleData();
  const files = await renderReport(data, { encodePng });
  const names = files.map((file) => file.name);
  assert.equal(names[names.length - 1], "index.html", "index.html is written last");
  for (const name of [
    "input.wav",
    "target.wav",
    "output.wav",
    "residual.wav",
    "render-epoch-0000.wav",
    "render-epoch-0002.wav",
    "loss.svg",
    "esr.svg",
    "bands.svg",
    "waveform-whole.svg",
    "waveform-transient.svg",
    "waveform-steady.svg",
    "spectrogram-target.png",
    "spectrogram-output.png",
    "spectrogram-residual.png",
  ]) {
    assert.ok(names.includes(name), `${name} is among ${names.join(", ")}`);
  }
  const html = files.find((file) => file.name === "index.html")!.data as string;
  assertWellFormed(html, "index.html", true);
  for (const file of files.filter((f) => f.name.endsWith(".svg")))
    assertWellFormed(file.data as string, file.name);

  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, `ids are unique: ${ids.join(", ")}`);
  // User strings appear escaped, never as markup.
  assert.ok(!html.includes("<script"), "no script element");
  assert.ok(!html.includes("<lowpass>"));
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"));
  assert.ok(html.includes("drive(gainDb=20) | &lt;lowpass&gt; &amp; &quot;co&quot;"));
  assert.match(html, /<title>Report for &lt;script&gt;/);

  // Players: the four of the scored audio and one per render, in epoch order.
  const players = [...html.matchAll(/<audio controls preload="metadata" src="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(players, [
    "input.wav",
    "target.wav",
    "output.wav",
    "residual.wav",
    "render-epoch-0000.wav",
    "render-epoch-0002.wav",
  ]);
  // Every image the page shows is one of the files.
  const images = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(images.length, 3 + 3 + 3, "3 charts, 3 waveforms, 3 spectrograms");
  for (const image of images) assert.ok(names.includes(image), `${image} exists`);

  // The metrics table: one row per metric, model and identity side by side with full-precision values.
  for (const row of METRIC_ROWS) assert.match(html, new RegExp(`<tr data-metric="${row.key}">`));
  const esrCell =
    /<tr data-metric="esr"><th>ESR<\/th><td class="num model[^"]*" data-value="([^"]+)">([^<]+)<\/td><td class="num identity[^"]*" data-value="([^"]+)"/.exec(
      html,
    );
  assert.ok(esrCell, "the ESR row");
  const { model, identity } = data.evaluation.comparison;
  assert.equal(Number(esrCell[1]), model.esr);
  assert.equal(esrCell[2], formatNumber(model.esr));
  assert.equal(Number(esrCell[3]), identity.esr);
  // Per-band ESR table: a row per band.
  const bandRows = /<table class="bands"[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/
    .exec(html)![1]!
    .match(/<tr>/g)!.length;
  assert.equal(bandRows, model.bands.length);
  assert.ok(model.bands.length >= 6, "31.25 Hz .. 2 kHz at 8 kHz");

  // The WAV players are 16-bit PCM of the scored audio; the PNGs decode to the spectrogram's size.
  const wav = decodeWav(files.find((file) => file.name === "target.wav")!.data as Uint8Array);
  assert.equal(wav.format.bitsPerSample, 16);
  assert.equal(wav.audio.channels[0]!.length, 8000);
  const png = pngjs.PNG.sync.read(
    Buffer.from(files.find((file) => file.name === "spectrogram-target.png")!.data as Uint8Array),
  );
  assert.deepEqual([png.width, png.height], [800, 256]);
});

test("the players are capped at maxAudioSeconds and the page says so", async () => {
  const data = sampleData();
  const files = await renderReport(data, { encodePng, maxAudioSeconds: 0.25 });
  const wav = decodeWav(files.find((file) => file.name === "output.wav")!.data as Uint8Array);
  assert.equal(wav.audio.channels[0]!.length, 2000);
  const render = decodeWav(files.find((file) => file.name === "render-epoch-0002.wav")!.data as Uint8Array);
  assert.equal(render.audio.channels[0]!.length, 2000);
  const html = files.find((file) => file.name === "index.html")!.data as string;
  assert.match(html, /The players hold the first 250 ms of the 1\.00 s scored/);
});

test("a report without training history or renders (deepsp eval) has no curves and no render table", () => {
  const data = sampleData();
  delete data.training;
  delete data.renders;
  const assets: ReportAssets = {
    audio: { input: "i.wav", target: "t.wav", output: "o.wav", residual: "r.wav" },
    audioSeconds: 1,
    audioCapped: false,
    renders: [],
    charts: {},
    waveforms: [],
    spectrograms: null,
  };
  const html = buildReportHtml(data, assets);
  assertWellFormed(html, "index.html", true);
  assert.ok(!html.includes('id="training"'));
  assert.ok(!html.includes('id="render-table"'));
  assert.equal(html.match(/<audio /g)!.length, 4);
});

test("spectrogram: size, a sine lands in its log-frequency row, colour map endpoints", () => {
  const sampleRate = 8000;
  const spec = spectrogram(tone(0.5, sampleRate, 1000, 1), sampleRate, { width: 120, height: 96 });
  assert.equal(spec.width, 120);
  assert.equal(spec.height, 96);
  assert.equal(spec.db.length, 120 * 96);
  assert.equal(spec.maxHz, 4000);
  // The loudest row of the middle column is 1 kHz on the log axis (row 0 = Nyquist), about 0 dB.
  const column = 60;
  let bestRow = 0;
  for (let r = 0; r < spec.height; r++)
    if (spec.db[r * spec.width + column]! > spec.db[bestRow * spec.width + column]!) bestRow = r;
  const expected = (Math.log(spec.maxHz / 1000) / Math.log(spec.maxHz / spec.minHz)) * spec.height;
  assert.ok(
    Math.abs(bestRow + 0.5 - expected) <= 1.5,
    `1 kHz at row ${bestRow}, expected ${expected.toFixed(1)}`,
  );
  assert.ok(
    Math.abs(spec.db[bestRow * spec.width + column]!) < 1.5,
    `full-scale sine reads ${spec.db[bestRow * spec.width + column]} dB`,
  );

  // Viridis: matplotlib's table, exactly (#440154, #21918c, #fde725).
  assert.deepEqual(viridis(0), [0x44, 0x01, 0x54]);
  assert.deepEqual(viridis(0.5), [0x21, 0x91, 0x8c]);
  assert.deepEqual(viridis(1), [0xfd, 0xe7, 0x25]);
  const near = (actual: number[], wanted: number[]) =>
    assert.ok(
      actual.every((v, i) => Math.abs(v - wanted[i]!) <= 2),
      `${actual} vs ${wanted}`,
    );
  assert.deepEqual(viridis(-3), viridis(0));
  assert.deepEqual(viridis(7), viridis(1));

  const rgba = spectrogramRgba(spec, { floorDb: -90, ceilDb: 0 });
  assert.equal(rgba.length, 120 * 96 * 4);
  // The sine's pixel is at its dB's place on the map (0 dB = the top); silence is the bottom colour.
  const pixel = (r: number) => [
    ...rgba.subarray((r * spec.width + column) * 4, (r * spec.width + column) * 4 + 4),
  ];
  near(pixel(bestRow).slice(0, 3), viridis(1 + spec.db[bestRow * spec.width + column]! / 90));
  assert.equal(pixel(bestRow)[3], 255);
  const silent = spectrogramRgba(spectrogram(new Float32Array(4000), sampleRate, { width: 10, height: 8 }), {
    floorDb: -90,
    ceilDb: 0,
  });
  for (let i = 0; i < silent.length; i += 4)
    assert.deepEqual([...silent.subarray(i, i + 4)], [...viridis(0), 255]);
});

test("min/max decimation keeps every peak and covers every sample", () => {
  const samples = new Float32Array(10007);
  for (let i = 0; i < samples.length; i++) samples[i] = 0.1 * Math.sin(i / 7);
  const spikes = [3, 1234, 5000, 10006];
  spikes.forEach((at, k) => {
    samples[at] = k % 2 === 0 ? 0.95 : -0.9;
  });
  const columns = 333;
  const { min, max } = minMaxDecimate(samples, 0, samples.length, columns);
  assert.equal(Math.max(...max), Math.fround(0.95));
  assert.equal(Math.min(...min), Math.fround(-0.9));
  for (const [k, at] of spikes.entries()) {
    const column = Math.floor((at * columns) / samples.length);
    const value = k % 2 === 0 ? max[column]! : min[column]!;
    assert.equal(value, samples[at], `spike at ${at} kept in column ${column}`);
  }
  // Every column's extremes are those of its own run of samples.
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * samples.length) / columns);
    const to = Math.floor(((c + 1) * samples.length) / columns);
    assert.equal(max[c], Math.max(...samples.subarray(from, to)));
    assert.equal(min[c], Math.min(...samples.subarray(from, to)));
  }
  assert.throws(() => minMaxDecimate(samples, 0, 10, 11), RangeError);

  // The whole-view SVG draws the spike: some point of the line sits at the spike's height.
  const svg = waveformSvg({
    title: "t",
    sampleRate: 8000,
    series: [{ label: "target", color: "#000", samples }],
    start: 0,
    end: samples.length,
    width: 400,
    height: 200,
  });
  assertWellFormed(svg, "waveform");
  const ys = [...svg.matchAll(/points="([^"]+)"/g)].flatMap((m) =>
    m[1]!.split(" ").map((p) => Number(p.split(",")[1])),
  );
  const top = Math.min(...ys);
  // The axis is fitted to the peak: 0.95 is near the plot's top edge (margin 30 px).
  assert.ok(top < 45, `highest point at y=${top}`);
});

test("the zoom pickers find the largest onset and a steady tone", () => {
  const sampleRate = 8000;
  const samples = new Float32Array(sampleRate * 2);
  // 0-0.5 s: quiet noise; 0.5-1.5 s: a steady tone; at 1.7 s: a loud click decaying.
  let seed = 1;
  for (let i = 0; i < 4000; i++) {
    seed = (seed * 16807) % 2147483647;
    samples[i] = 0.01 * (seed / 2147483647 - 0.5);
  }
  samples.set(tone(1, sampleRate, 220, 0.3), 4000);
  const click = 13600;
  for (let i = click; i < samples.length; i++) samples[i] = 0.9 * Math.exp(-(i - click) / 80) * Math.sin(i);
  const onset = findTransient(samples, sampleRate);
  assert.ok(Math.abs(onset - click) <= 40, `onset ${onset}, click ${click}`);
  const steady = findSteadySegment(samples, sampleRate, 0.1);
  assert.equal(steady.end - steady.start, 800);
  assert.ok(steady.start >= 4000 && steady.end <= 12000, `steady ${steady.start}-${steady.end}`);
});
