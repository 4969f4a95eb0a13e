import { builtinEffects } from "../src/effects/builtin/index.ts";
import { esrVerdict } from "../src/eval/verdict.ts";
import { importModel } from "../src/io/import.ts";
import { namFromModelFile } from "../src/io/nam/convert.ts";
import { PRESETS } from "../src/nn/models/presets.ts";
import { builtinMaterials } from "../src/signals/catalogue.ts";
import type { TrainEvent } from "../src/train/trainer.ts";
import { type ChartData, drawChart } from "./lib/chart.ts";
import { download, readAudioFile } from "./lib/files.ts";
import { type LiveModel, LivePlayer, renderOffline } from "./lib/live.ts";
import type { FromTrainer, PairSummary, ToTrainer, TrainedModel } from "./lib/protocol.ts";
import { drawOverview } from "./lib/waveform.ts";

/*
 * The page: six steps over the library, one worker (training, material, pair checks) and one worklet (live
 * play). State lives here; each handler updates the DOM for what it changed.
 */

const $ = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as T;
};

const SAMPLE_RATE = 48000;
const worker = new Worker(new URL("./train-worker.ts", import.meta.url), { type: "module" });
const send = (message: ToTrainer, transfer: Transferable[] = []) => worker.postMessage(message, transfer);

let summary: PairSummary | null = null;
let trained: TrainedModel | null = null;
let liveModel: LiveModel | null = null;
let chart: ChartData = { train: [], validation: [], epochs: 1 };
let training = false;

function status(id: string, text: string, error = false): void {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("error", error);
}

// --- 1. material ---------------------------------------------------------------------------------------
const materialSelect = $<HTMLSelectElement>("material-kind");
for (const kind of builtinMaterials) {
  if (kind.name === "silence" || kind.name === "blips") continue;
  materialSelect.append(
    new Option(`${kind.name}: ${kind.description}`, kind.name, false, kind.name === "standard"),
  );
}
$("effect-names").textContent = builtinEffects.map((effect) => effect.name).join(", ");

$<HTMLFormElement>("builtin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const seconds = Number($<HTMLInputElement>("material-seconds").value);
  status("material-status", "rendering the material through the effect chain...");
  send({
    type: "render",
    material: materialSelect.value,
    seconds,
    sampleRate: SAMPLE_RATE,
    chain: $<HTMLInputElement>("effect-chain").value,
  });
});

const files: { dry: File | null; wet: File | null } = { dry: null, wet: null };
for (const which of ["dry", "wet"] as const) {
  const input = $<HTMLInputElement>(`${which}-file`);
  const zone = $(`drop-${which}`);
  const take = (file: File | undefined) => {
    if (!file) return;
    files[which] = file;
    $(`${which}-name`).textContent = `${file.name} (${(file.size / 1e6).toFixed(1)} MB)`;
    $<HTMLButtonElement>("use-files").disabled = !(files.dry && files.wet);
  };
  input.addEventListener("change", () => take(input.files?.[0]));
  dropZone(zone, take);
}

$("use-files").addEventListener("click", async () => {
  try {
    status("material-status", "reading the files...");
    const [dry, wet] = await Promise.all([readAudioFile(files.dry!), readAudioFile(files.wet!)]);
    status("material-status", "checking the pair...");
    send({
      type: "check",
      name: `${files.dry!.name} -> ${files.wet!.name}`,
      inputName: files.dry!.name,
      targetName: files.wet!.name,
      sampleRate: dry.sampleRate,
      targetSampleRate: wet.sampleRate,
      input: [...dry.channels],
      target: [...wet.channels],
    });
  } catch (error) {
    status("material-status", String(error instanceof Error ? error.message : error), true);
  }
});

function dropZone(zone: HTMLElement, take: (file: File | undefined) => void): void {
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    take(event.dataTransfer?.files[0]);
  });
}

// --- 2. pair check -------------------------------------------------------------------------------------
function showPair(next: PairSummary): void {
  summary = next;
  const { report } = next;
  const delay = report.delay.delaySamples;
  const facts: [string, string][] = [
    ["pair", next.name],
    ["sample rate", `${report.sampleRate} Hz`],
    [
      "length",
      `${report.seconds.toFixed(2)} s (${report.frames} frames)${report.lengthTrimmedFrames ? `, ${report.lengthTrimmedFrames} trimmed` : ""}`,
    ],
    ["channels", `dry ${report.inputChannels}, wet ${report.targetChannels} (${report.channelHandling})`],
    [
      "latency",
      `${delay} samples (${((1000 * delay) / report.sampleRate).toFixed(2)} ms, ${report.delay.source})`,
    ],
    [
      "levels",
      `dry peak ${report.input.peakDb.toFixed(1)} dBFS, wet peak ${report.target.peakDb.toFixed(1)} dBFS`,
    ],
    [
      "split",
      `train ${next.trainSeconds.toFixed(1)} s, validation ${next.validationSeconds.toFixed(1)} s, test ${next.testSeconds.toFixed(1)} s`,
    ],
  ];
  $("pair-facts").replaceChildren(
    ...facts.flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      return [dt, dd];
    }),
  );
  $("pair-warnings").replaceChildren(
    ...report.warnings.map((warning) => {
      const item = document.createElement("li");
      item.textContent = warning;
      return item;
    }),
  );
  drawOverview($<HTMLCanvasElement>("pair-waveform"), next.overview.dry, next.overview.wet);
  status("material-status", "pair ready: check it below, then train");
  $<HTMLButtonElement>("train-start").disabled = false;
}

// --- 3. train ------------------------------------------------------------------------------------------
const presetSelect = $<HTMLSelectElement>("preset");
for (const preset of PRESETS)
  presetSelect.append(
    new Option(`${preset.name}: ${preset.description}`, preset.name, false, preset.name === "lstm-16"),
  );

$<HTMLFormElement>("train-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const epochs = Number($<HTMLInputElement>("epochs").value);
  const windowLength = Number($<HTMLInputElement>("window").value);
  chart = { train: [], validation: [], epochs };
  trained = null;
  startTraining();
  send({
    type: "train",
    preset: presetSelect.value,
    epochs,
    windowLength,
    burnIn: Math.min(512, Math.floor(windowLength / 4)),
    overlap: 3,
    seed: 1,
  });
});
$("train-stop").addEventListener("click", () => send({ type: "stop" }));
$("train-resume").addEventListener("click", () => {
  chart.epochs += 5;
  startTraining();
  send({ type: "resume", epochs: 5 });
});

function startTraining(): void {
  training = true;
  $<HTMLButtonElement>("train-start").disabled = true;
  $<HTMLButtonElement>("train-resume").disabled = true;
  $<HTMLButtonElement>("train-stop").disabled = false;
  $("verdict").textContent = "";
  status("train-status", "starting...");
}

let epochLoss: { epoch: number; sum: number; count: number } = { epoch: 0, sum: 0, count: 0 };
function onTrainEvent(event: TrainEvent): void {
  switch (event.type) {
    case "start":
      status(
        "train-status",
        `training ${event.parameters} parameters on ${event.trainWindows} windows, ${event.batchesPerEpoch} batches per epoch`,
      );
      break;
    case "batch": {
      if (epochLoss.epoch !== event.epoch) epochLoss = { epoch: event.epoch, sum: 0, count: 0 };
      const position = event.epoch - 1 + event.batch / event.batches;
      const last = chart.train.at(-1);
      if (last && Math.floor(last[0]) === event.epoch - 1 && last[0] > event.epoch - 1) chart.train.pop();
      chart.train.push([position, event.meanLoss]);
      setProgress(event.batch / event.batches);
      status(
        "train-status",
        `epoch ${event.epoch}: batch ${event.batch}/${event.batches}, loss ${event.meanLoss.toExponential(2)}, ${(event.samplesPerSecond / SAMPLE_RATE).toFixed(1)}x real time`,
      );
      drawChart($("chart") as unknown as SVGSVGElement, chart);
      break;
    }
    case "validation":
      chart.validation.push([event.epoch, event.esr]);
      drawChart($("chart") as unknown as SVGSVGElement, chart);
      if (event.bestEsr !== null)
        showVerdict(
          `validation ESR ${event.bestEsr.toExponential(2)} (best, epoch ${event.bestEpoch})`,
          event.bestEsr,
        );
      break;
    case "end":
      setProgress(1);
      break;
    default:
      break;
  }
}

function setProgress(fraction: number): void {
  const bar = $("epoch-progress");
  bar.setAttribute("aria-valuenow", String(Math.round(100 * fraction)));
  (bar.firstElementChild as HTMLElement).style.width = `${(100 * fraction).toFixed(1)}%`;
}

function showVerdict(prefix: string, esr: number): void {
  const verdict = esrVerdict(esr);
  const node = $("verdict");
  node.className = `verdict ${verdict.band}`;
  node.textContent = `${prefix}: ${verdict.words}`;
}

function onTrained(model: TrainedModel): void {
  training = false;
  trained = model;
  status(
    "train-status",
    `${model.reason === "stopped" ? "stopped" : "done"}: best epoch ${model.bestEpoch}, validation ESR ${model.validationEsr.toExponential(2)}, test ESR ${model.testEsr.toExponential(2)}`,
  );
  showVerdict(`test ESR ${model.testEsr.toExponential(2)}`, model.testEsr);
  $<HTMLButtonElement>("train-start").disabled = false;
  $<HTMLButtonElement>("train-stop").disabled = true;
  $<HTMLButtonElement>("train-resume").disabled = false;
  for (const button of document.querySelectorAll<HTMLButtonElement>(".abc")) button.disabled = false;
  setLiveModel({ text: model.text, name: `${model.preset} (trained here)` });
  $<HTMLButtonElement>("export-json").disabled = false;
  let namError: string | null = null;
  try {
    namFromModelFile(importedFile(model.text));
  } catch (error) {
    namError = error instanceof Error ? error.message : String(error);
  }
  $<HTMLButtonElement>("export-nam").disabled = namError !== null;
  status("export-status", namError === null ? "" : `.nam: ${namError}`);
}

function importedFile(text: string) {
  const imported = importModel(text, { verify: false });
  if (imported.kind !== "deepsp") throw new Error("not a deepsp model");
  return imported.file;
}

worker.addEventListener("message", (event: MessageEvent<FromTrainer>) => {
  const message = event.data;
  if (message.type === "checked") showPair(message.summary);
  else if (message.type === "event") onTrainEvent(message.event);
  else if (message.type === "trained") onTrained(message.model);
  else {
    const where = training ? "train-status" : "material-status";
    training = false;
    status(where, message.message, true);
    $<HTMLButtonElement>("train-start").disabled = summary === null;
    $<HTMLButtonElement>("train-stop").disabled = true;
  }
});

// --- 4. listen: A/B/C in lock step ----------------------------------------------------------------------
let listening: { context: AudioContext; gains: Record<string, GainNode> } | null = null;
for (const button of document.querySelectorAll<HTMLButtonElement>(".abc")) {
  button.addEventListener("click", () => listen(button.dataset["source"]!));
}
$("listen-stop").addEventListener("click", () => stopListening());

function listen(which: string): void {
  if (!trained) return;
  if (!listening) {
    const { test } = trained;
    const context = new AudioContext({ sampleRate: test.sampleRate });
    const gains: Record<string, GainNode> = {};
    const at = context.currentTime + 0.1;
    for (const [name, samples] of Object.entries({
      dry: test.input,
      target: test.target,
      model: test.output,
    })) {
      const buffer = context.createBuffer(1, samples.length, test.sampleRate);
      buffer.getChannelData(0).set(samples);
      const source = context.createBufferSource();
      source.buffer = buffer;
      source.loop = true;
      const gain = context.createGain();
      gain.gain.value = 0;
      source.connect(gain).connect(context.destination);
      source.start(at); // one start time: the three stay sample-aligned
      gains[name] = gain;
    }
    listening = { context, gains };
    $<HTMLButtonElement>("listen-stop").disabled = false;
  }
  for (const [name, gain] of Object.entries(listening.gains)) {
    gain.gain.setTargetAtTime(name === which ? 1 : 0, listening.context.currentTime, 0.005);
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>(".abc")) {
    button.setAttribute("aria-pressed", String(button.dataset["source"] === which));
  }
}

function stopListening(): void {
  void listening?.context.close();
  listening = null;
  $<HTMLButtonElement>("listen-stop").disabled = true;
  for (const button of document.querySelectorAll<HTMLButtonElement>(".abc"))
    button.setAttribute("aria-pressed", "false");
}

// --- 5. play live --------------------------------------------------------------------------------------
const player = new LivePlayer((message) => {
  if (message.type === "loaded") {
    status(
      "live-status",
      `playing ${message.name}: ${message.architecture}, ${message.parameters} parameters, ${message.modelSampleRate} Hz`,
    );
  } else if (message.type === "error") {
    status("live-status", message.message, true);
  }
});

function setLiveModel(model: LiveModel): void {
  liveModel = model;
  $("model-name").textContent = model.name;
  $<HTMLButtonElement>("live-file").disabled = false;
  $<HTMLButtonElement>("live-mic").disabled = false;
  if (player.playing) player.load(model);
}

const modelInput = $<HTMLInputElement>("model-file");
const takeModel = async (file: File | undefined) => {
  if (!file) return;
  try {
    const text = await file.text();
    importModel(text, { source: file.name, verify: false }); // a clear error now, not in the audio thread
    setLiveModel({ text, name: file.name });
    status("live-status", `${file.name} loaded: press play`);
  } catch (error) {
    status("live-status", error instanceof Error ? error.message : String(error), true);
  }
};
modelInput.addEventListener("change", () => void takeModel(modelInput.files?.[0]));
dropZone($("drop-model"), (file) => void takeModel(file));

function liveRate(): number {
  if (!liveModel) return SAMPLE_RATE;
  const imported = importModel(liveModel.text, { verify: false });
  return imported.kind === "nam" ? (imported.nam.sampleRate ?? SAMPLE_RATE) : imported.file.sampleRate;
}

$("live-file").addEventListener("click", async () => {
  const dry = trained?.test.input ?? testTone(liveRate());
  await startLive(dry);
});
$("live-mic").addEventListener("click", () => void startLive("microphone"));
$("live-stop").addEventListener("click", async () => {
  await player.stop();
  $<HTMLButtonElement>("live-stop").disabled = true;
  status("live-status", "stopped");
});

async function startLive(input: Float32Array | "microphone"): Promise<void> {
  if (!liveModel) return;
  try {
    await player.start(liveModel, input, liveRate());
    $<HTMLButtonElement>("live-stop").disabled = false;
  } catch (error) {
    status("live-status", error instanceof Error ? error.message : String(error), true);
  }
}

/** A plucked-ish test signal for a dropped model with no trained pair: 4 s of decaying tones. */
function testTone(sampleRate: number): Float32Array {
  const out = new Float32Array(4 * sampleRate);
  for (let i = 0; i < out.length; i++) {
    const t = (i % sampleRate) / sampleRate;
    out[i] = 0.4 * Math.exp(-3 * t) * Math.sin(2 * Math.PI * (110 * 2 ** Math.floor(i / sampleRate / 1)) * t);
  }
  return out;
}

$("cpu-meter").addEventListener("click", () => {
  const button = $("cpu-meter");
  const on = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(on));
  player.setMeter(on);
  $("cpu-load").textContent = on ? "measuring..." : "off";
});

setInterval(() => {
  const reading =
    player.playing && $("cpu-meter").getAttribute("aria-pressed") === "true" ? player.readLoad() : null;
  if (reading)
    $("cpu-load").textContent =
      `${(100 * reading.load).toFixed(1)}% of one core (average over ${reading.audioSeconds.toFixed(0)} s played)`;
}, 1000);

// --- 6. export -----------------------------------------------------------------------------------------
$("export-json").addEventListener("click", () => {
  if (trained) download(`deepsp-${trained.preset}.json`, trained.text);
});
$("export-nam").addEventListener("click", () => {
  if (!trained) return;
  try {
    download(
      `deepsp-${trained.preset}.nam`,
      `${JSON.stringify(namFromModelFile(importedFile(trained.text)))}\n`,
    );
  } catch (error) {
    status("export-status", error instanceof Error ? error.message : String(error), true);
  }
});

/** For the end-to-end tests and the devtools console: render a model through the worklet offline. */
(globalThis as { deepsp?: unknown }).deepsp = {
  renderOffline,
  trained: () => trained,
};
