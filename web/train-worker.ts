import { type Audio, makeAudio } from "../src/audio/audio.ts";
import { type PreparedPair, preparePairForTraining } from "../src/data/dataset.ts";
import { builtinEffects } from "../src/effects/builtin/index.ts";
import { parseChain, renderChain, resolveChain } from "../src/effects/chain.ts";
import { esrOf } from "../src/eval/report/run.ts";
import { serializeModel } from "../src/io/model-file.ts";
import type { Model } from "../src/nn/models/model.ts";
import { findPreset } from "../src/nn/models/presets.ts";
import { createModel } from "../src/nn/models/registry.ts";
import { createStreamProcessor, processWhole } from "../src/runtime/processor.ts";
import { findMaterial } from "../src/signals/catalogue.ts";
import type { Checkpoint } from "../src/train/checkpoint.ts";
import { type TrainOptions, train } from "../src/train/trainer.ts";
import type { FromTrainer, ToTrainer, TrainRequest } from "./lib/protocol.ts";

/*
 * The training worker: the library's own pair preparation and trainer, off the page's thread so the UI never
 * blocks. One run at a time; "stop" aborts after the current batch (the best epoch so far is kept), "resume"
 * continues from the last checkpoint (bit-identical to a run that never stopped, as in the CLI).
 */

const scope = self as unknown as {
  postMessage(message: FromTrainer, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToTrainer>) => void) | null;
};

let prepared: PreparedPair | null = null;
let run: { request: TrainRequest; model: Model; last: Checkpoint | null } | null = null;
let abort: AbortController | null = null;

const post = (message: FromTrainer, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

scope.onmessage = (event) => {
  handle(event.data).catch((error: unknown) =>
    post({ type: "error", message: error instanceof Error ? error.message : String(error) }),
  );
};

async function handle(message: ToTrainer): Promise<void> {
  switch (message.type) {
    case "check":
      check(
        message.name,
        makeAudio(message.sampleRate, message.input),
        makeAudio(message.targetSampleRate, message.target),
        { inputName: message.inputName, targetName: message.targetName },
      );
      return;
    case "render": {
      const dry = findMaterial(message.material).generate({
        seconds: message.seconds,
        sampleRate: message.sampleRate,
        seed: 1,
      });
      const steps = resolveChain(parseChain(message.chain), builtinEffects);
      const wet = await renderChain(dry, steps);
      check(`${message.material} through ${message.chain}`, dry, wet.audio, {
        inputName: "dry",
        targetName: "wet",
      });
      return;
    }
    case "train": {
      if (!prepared) throw new Error("check a pair first");
      const preset = findPreset(message.preset);
      run = { request: message, model: createModel(preset.model, { seed: message.seed }), last: null };
      await trainRun(message.epochs, null);
      return;
    }
    case "resume": {
      if (!run?.last) throw new Error("nothing to resume: train first");
      await trainRun(run.request.epochs + message.epochs, run.last);
      run.request = { ...run.request, epochs: run.request.epochs + message.epochs };
      return;
    }
    case "stop":
      abort?.abort();
      return;
  }
}

/** Checks, aligns and splits the pair (the CLI's `deepsp pair` path) and keeps it for training. */
function check(
  name: string,
  input: Audio,
  target: Audio,
  names: { inputName: string; targetName: string },
): void {
  prepared = preparePairForTraining(name, input, target, {
    pair: { ...names, align: "detect", channels: "downmix-input" },
    windows: { length: 2048, overlap: 1 },
  });
  run = null;
  post({
    type: "checked",
    summary: {
      name,
      report: prepared.report,
      overview: {
        dry: overview(prepared.pair.input.channels[0]!, OVERVIEW_COLUMNS),
        wet: overview(prepared.pair.target.channels[0]!, OVERVIEW_COLUMNS),
      },
      trainSeconds: prepared.roles.train.seconds,
      validationSeconds: prepared.roles.validation.seconds,
      testSeconds: prepared.roles.test.seconds,
    },
  });
}

const OVERVIEW_COLUMNS = 600;

/** [min, max] of each of `columns` equal slices. */
function overview(samples: Float32Array, columns: number): Float32Array {
  const out = new Float32Array(2 * columns);
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * samples.length) / columns);
    const to = Math.max(from + 1, Math.floor(((c + 1) * samples.length) / columns));
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to && i < samples.length; i++) {
      lo = Math.min(lo, samples[i]!);
      hi = Math.max(hi, samples[i]!);
    }
    out[2 * c] = lo;
    out[2 * c + 1] = hi;
  }
  return out;
}

async function trainRun(epochs: number, resumeFrom: Checkpoint | null): Promise<void> {
  const pair = prepared!;
  const current = run!;
  const { request, model } = current;
  const preset = findPreset(request.preset);
  abort = new AbortController();
  const options: TrainOptions = {
    ...preset.training,
    ...(request.windowLength !== null ? { windowLength: request.windowLength } : {}),
    ...(request.burnIn !== null && model.recurrent ? { burnIn: request.burnIn } : {}),
    epochs,
    overlap: request.overlap,
    stereo: "split",
    seed: request.seed,
    model,
    parts: [pair],
    signal: abort.signal,
    onEvent: (event) => post({ type: "event", event }),
    saveCheckpoint: async (checkpoint) => {
      if (checkpoint.kind === "last") current.last = checkpoint;
    },
    ...(resumeFrom ? { resumeFrom } : {}),
  };
  const result = await train(options);
  abort = null;
  if (result.bestEpoch === null || result.bestEsr === null)
    throw new Error("training stopped before the first epoch ended");

  // The test region as the worklet will play it: the streaming processor from silence, first channel.
  const region = pair.split.regions.test[0] ?? pair.split.regions.validation[0]!;
  const dry = pair.pair.input.channels[0]!.slice(region.start, region.end);
  const wet = pair.pair.target.channels[0]!.slice(region.start, region.end);
  const processor = createStreamProcessor(model, { audioChannels: 1, warmUpSamples: 0 });
  processor.prepare(pair.report.sampleRate, 4096);
  const [output] = processWhole(processor, [dry], { sampleRate: pair.report.sampleRate }) as [Float32Array];
  const text = serializeModel({
    model,
    sampleRate: pair.report.sampleRate,
    metadata: { name: `${request.preset} (browser)` },
  });
  post(
    {
      type: "trained",
      model: {
        text,
        preset: request.preset,
        bestEpoch: result.bestEpoch,
        validationEsr: result.bestEsr,
        testEsr: esrOf(makeAudio(pair.report.sampleRate, [wet]), makeAudio(pair.report.sampleRate, [output])),
        test: { input: dry, target: wet, output, sampleRate: pair.report.sampleRate },
        reason: result.reason,
      },
    },
    [dry.buffer, wet.buffer, output.buffer],
  );
}
