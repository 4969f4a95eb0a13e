import { Command, Option } from "commander";
import { makeAudio } from "../../src/audio/audio.ts";
import { resample } from "../../src/audio/resample.ts";
import type { WavEncoding } from "../../src/audio/wav.ts";
import { OptionError } from "../../src/core/errors.ts";
import { readWavFile, writeWavFile } from "../../src/node/files.ts";
import { readPlayableModel } from "../../src/node/model-io.ts";
import { processWhole } from "../../src/runtime/index.ts";
import { integer } from "../parse.ts";

interface ProcessOptions {
  model: string;
  in: string;
  out: string;
  block: string;
  encoding: WavEncoding;
  resample?: boolean;
  force?: boolean;
}

/**
 * Runs a model over a whole file with the streaming runtime, block by block, exactly as it runs in real
 * time: a mono model processes each channel of a stereo file with its own state.
 */
export function processCommand(): Command {
  return new Command("process")
    .description("run a model over a WAV file (streaming, any length, mono or stereo)")
    .requiredOption("-m, --model <file>", "model file: deepsp (.json), .nam, or RTNeural/AIDA-X (.json)")
    .requiredOption("--in <file>", "input WAV")
    .requiredOption("-o, --out <file>", "output WAV")
    .option("--block <frames>", "block size, as an audio host would use", "4096")
    .addOption(
      new Option("--encoding <encoding>", "sample format of the output")
        .choices(["pcm16", "pcm24", "float32"])
        .default("float32"),
    )
    .option("--resample", "resample the input to the model's rate when they differ")
    .option("--force", "overwrite --out if it exists")
    .action(async (options: ProcessOptions) => {
      const blockSize = integer(options.block, "--block", 1);
      const [file, wav] = await Promise.all([readPlayableModel(options.model), readWavFile(options.in)]);
      let audio = wav.audio;
      if (audio.sampleRate !== file.sampleRate) {
        if (!options.resample) {
          throw new OptionError(
            "options/invalid",
            `${options.in} is ${audio.sampleRate} Hz but the model was trained at ${file.sampleRate} Hz (add --resample)`,
          );
        }
        audio = resample(audio, file.sampleRate);
      }
      const modelChannels = file.channels;
      if (modelChannels !== 1 && modelChannels !== audio.channels.length) {
        throw new OptionError(
          "options/invalid",
          `${options.model} maps ${modelChannels} channels but ${options.in} has ${audio.channels.length}`,
        );
      }
      const processor = file.createProcessor(audio.channels.length);
      const start = performance.now();
      const output = processWhole(processor, audio.channels, { blockSize, sampleRate: audio.sampleRate });
      const seconds = (performance.now() - start) / 1000;
      await writeWavFile(options.out, makeAudio(audio.sampleRate, output), {
        encoding: options.encoding,
        overwrite: options.force === true,
      });
      const audioSeconds = audio.channels[0]!.length / audio.sampleRate;
      console.log(
        `${options.out}: ${audioSeconds.toFixed(2)} s of ${audio.channels.length}-channel audio through ${file.architecture} ` +
          `in ${seconds.toFixed(2)} s (${(audioSeconds / seconds).toFixed(1)}x real time, block ${blockSize})`,
      );
    });
}
