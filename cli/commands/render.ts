import { Command, Option } from "commander";
import type { WavEncoding } from "../../src/audio/wav.ts";
import {
  formatChain,
  parseChain,
  renderChain,
  resolveChain,
  resolvedChain,
} from "../../src/effects/chain.ts";
import { nodeEffects } from "../../src/node/effect-registry.ts";
import { readWavFile, writeWavFile } from "../../src/node/files.ts";

export function renderCommand(): Command {
  return new Command("render")
    .description("render a WAV file through an effect chain (see deepsp effects list)")
    .requiredOption("-e, --effect <chain>", 'effect chain, e.g. "lowpass(cutoffHz=800) | drive(gainDb=20)"')
    .requiredOption("--in <file>", "input WAV")
    .requiredOption("-o, --out <file>", "output WAV (same length, rate and channels as the input)")
    .addOption(
      new Option("--encoding <encoding>", "sample format of the output")
        .choices(["pcm16", "pcm24", "float32"])
        .default("float32"),
    )
    .option("--force", "overwrite --out if it exists")
    .action(
      async (options: {
        effect: string;
        in: string;
        out: string;
        encoding: WavEncoding;
        force?: boolean;
      }) => {
        const steps = resolveChain(parseChain(options.effect), nodeEffects());
        const { audio } = await readWavFile(options.in);
        const start = performance.now();
        const result = await renderChain(audio, steps);
        const seconds = (performance.now() - start) / 1000;
        await writeWavFile(options.out, result.audio, {
          encoding: options.encoding,
          overwrite: options.force === true,
        });
        const audioSeconds = audio.channels[0]!.length / audio.sampleRate;
        console.log(`${options.out}: ${formatChain(resolvedChain(steps))}`);
        console.log(
          `  ${audioSeconds.toFixed(2)} s in ${seconds.toFixed(2)} s (${(audioSeconds / seconds).toFixed(0)}x real time), latency ${result.latencySamples} samples`,
        );
      },
    );
}
