import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { type Audio, makeAudio } from "../../src/audio/audio.ts";
import { OptionError } from "../../src/core/errors.ts";
import { preparePairForTraining } from "../../src/data/dataset.ts";
import { biquadCoefficients, biquadFilter } from "../../src/dsp/biquad.ts";
import { readWavFile, writeJsonFile, writeWavFile } from "../../src/node/files.ts";
import { standard } from "../../src/signals/index.ts";
import { printPairReport } from "./pair.ts";

const DEFAULT_OUT = "out/demo";
/** The demo's latency, in samples, so the report shows detection recovering a known value. */
const DEMO_LATENCY = 96;

/**
 * The end-to-end demo on built-in material, no files needed (`npm start`). For now it covers the data
 * path: generate the standard capture signal, pass it through a small drive pedal with latency, write
 * both as WAV files, read them back, check and align the pair, split it and count training windows.
 */
export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "end-to-end demo on built-in material: generate, apply an effect, check/align/split the pair",
    )
    .option("-o, --out <folder>", "folder for the demo's files", DEFAULT_OUT)
    .option("--seconds <s>", "length of the generated material (>= 20)", "30")
    .option("--force", "replace files in --out (always on for the default folder)")
    .action(async (options: { out: string; seconds: string; force?: boolean }) => {
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
    });
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
