import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { type Audio, makeAudio } from "../../src/audio/audio.ts";
import { OptionError } from "../../src/core/errors.ts";
import { preparePairForTraining } from "../../src/data/dataset.ts";
import { biquadCoefficients, biquadFilter } from "../../src/dsp/biquad.ts";
import { findPreset } from "../../src/nn/models/presets.ts";
import { createModel } from "../../src/nn/models/registry.ts";
import { readWavFile, writeJsonFile, writeWavFile } from "../../src/node/files.ts";
import { readModelFile, writeModelFile } from "../../src/node/model-files.ts";
import { createStreamProcessor, processWhole } from "../../src/runtime/index.ts";
import { standard } from "../../src/signals/index.ts";
import { train } from "../../src/train/trainer.ts";
import { integer } from "../parse.ts";
import { printPairReport } from "./pair.ts";

const DEFAULT_OUT = "out/demo";
/** The demo's latency, in samples, so the report shows detection recovering a known value. */
const DEMO_LATENCY = 96;

/**
 * The end-to-end demo on built-in material, no files needed (`npm start`): generate the standard capture
 * signal, pass it through a small drive pedal with latency, write both as WAV files, read them back, check
 * and align the pair, split it, train an LSTM on it, save the model file, and run the saved model over the
 * whole input with the streaming runtime, scoring the held-out test audio against "doing nothing".
 */
export function demoCommand(): Command {
  return new Command("demo")
    .description("end-to-end demo on built-in material: generate, apply an effect, align, train, save, run")
    .option("-o, --out <folder>", "folder for the demo's files", DEFAULT_OUT)
    .option("--seconds <s>", "length of the generated material (>= 20)", "30")
    .option("--epochs <n>", "training epochs", "4")
    .option("--force", "replace files in --out (always on for the default folder)")
    .action(async (options: { out: string; seconds: string; epochs: string; force?: boolean }) => {
      const epochs = integer(options.epochs, "--epochs", 1);
      const seconds = Number(options.seconds);
      if (!(seconds >= 20 && seconds <= 3600)) {
        throw new OptionError(
          "options/invalid",
          `--seconds must be a number from 20 to 3600, got "${options.seconds}"`,
        );
      }
      const overwrite = options.force === true || options.out === DEFAULT_OUT;
      await mkdir(options.out, { recursive: true });
      const inputPath = join(options.out, "input.wav");
      const targetPath = join(options.out, "target.wav");

      console.log(`1. material: the standard capture signal, ${seconds} s at 48 kHz -> ${inputPath}`);
      const material = standard({ seconds, sampleRate: 48000, amplitude: 0.5, seed: 1 });
      await writeWavFile(inputPath, material, { encoding: "pcm24", overwrite });

      console.log(
        `2. effect: low-pass 4 kHz -> tanh drive x4 -> ${DEMO_LATENCY} samples of latency -> ${targetPath}`,
      );
      await writeWavFile(targetPath, drivePedal(material, DEMO_LATENCY), { encoding: "pcm24", overwrite });

      console.log(
        "3. pair: read both files back, check, align, split 80/10/10, windows of 8192 with overlap 10",
      );
      const [input, target] = await Promise.all([readWavFile(inputPath), readWavFile(targetPath)]);
      const prepared = preparePairForTraining("demo", input.audio, target.audio, {
        pair: { inputName: inputPath, targetName: targetPath },
        windows: { length: 8192, overlap: 10 },
      });
      printPairReport(prepared);
      const reportPath = join(options.out, "pair-report.json");
      await writeJsonFile(
        reportPath,
        {
          input: inputPath,
          target: targetPath,
          pair: prepared.report,
          split: prepared.split,
          roles: prepared.roles,
        },
        { overwrite },
      );
      console.log(`   report -> ${reportPath}`);
      const found = prepared.report.delay.delaySamples;
      console.log(`   latency put in: ${DEMO_LATENCY} samples; found: ${found}`);

      const preset = findPreset("lstm-16");
      console.log(
        `4. train: ${preset.description}, ${epochs} epochs (deepsp train does this with checkpoints)`,
      );
      const model = createModel(preset.model, { seed: 1 });
      const burnIn = 512;
      const result = await train({
        model,
        parts: [prepared],
        epochs,
        batchSize: 16,
        learningRate: preset.training.learningRate,
        loss: preset.training.loss,
        windowLength: 2048,
        overlap: 3,
        burnIn,
        truncate: preset.training.truncate ?? null,
        seed: 1,
        onEvent: (event) => {
          if (event.type === "validation")
            console.log(`   epoch ${event.epoch}: validation ESR ${event.esr.toExponential(3)}`);
        },
      });
      const modelPath = join(options.out, "model.json");
      await writeModelFile(
        modelPath,
        {
          model,
          sampleRate: input.audio.sampleRate,
          metadata: { name: "demo", metrics: { validationEsr: result.bestEsr ?? undefined } },
        },
        { overwrite },
      );
      console.log(
        `   best validation ESR ${result.bestEsr?.toExponential(3)} (epoch ${result.bestEpoch}) -> ${modelPath}`,
      );

      console.log(
        "5. run: the saved model over the whole input with the streaming runtime, in 128-sample blocks",
      );
      const saved = await readModelFile(modelPath);
      const output = processWhole(createStreamProcessor(saved.model), input.audio.channels, {
        blockSize: 128,
        sampleRate: input.audio.sampleRate,
      });
      const outputPath = join(options.out, "output.wav");
      await writeWavFile(outputPath, makeAudio(input.audio.sampleRate, output), { overwrite });
      // Score the test region (the last 10%) on the aligned pair: the model output shifted by the latency.
      const test = prepared.split.regions.test[0]!;
      const modelEsr = esr(prepared.pair.target.channels[0]!, output[0]!, test.start + burnIn, test.end);
      const identityEsr = esr(
        prepared.pair.target.channels[0]!,
        prepared.pair.input.channels[0]!,
        test.start + burnIn,
        test.end,
      );
      console.log(
        `   test ESR ${modelEsr.toExponential(3)} (passing the input through: ${identityEsr.toExponential(3)}) -> ${outputPath}`,
      );
    });
}

/** Error-to-signal ratio of `output` against `target` over samples [from, to). */
function esr(target: Float32Array, output: Float32Array, from: number, to: number): number {
  let error = 0;
  let signal = 0;
  for (let t = from; t < to; t++) {
    error += (target[t]! - output[t]!) ** 2;
    signal += target[t]! ** 2;
  }
  return error / signal;
}

/** A small drive pedal: 4 kHz low-pass, tanh soft clipping with 4x gain, then `latency` samples of delay. */
function drivePedal(audio: Audio, latency: number): Audio {
  const lowpass = biquadCoefficients({ type: "lowpass", frequencyHz: 4000, sampleRate: audio.sampleRate });
  return makeAudio(
    audio.sampleRate,
    audio.channels.map((channel) => {
      const filtered = biquadFilter(channel, lowpass);
      const output = new Float32Array(channel.length);
      for (let n = latency; n < output.length; n++) output[n] = 0.5 * Math.tanh(4 * filtered[n - latency]!);
      return output;
    }),
  );
}
