import { Command } from "commander";
import { durationSeconds, peak, rms, toDb } from "../../src/audio/audio.ts";
import { describeFormat } from "../../src/audio/wav.ts";
import { readWavFile } from "../../src/node/files.ts";
import { printJson } from "../output.ts";

export function infoCommand(): Command {
  return new Command("info")
    .description("show a WAV file's format, length and levels")
    .argument("<file>", "WAV file")
    .option("--json", "print JSON instead of text")
    .action(async (file: string, options: { json?: boolean }) => {
      const { audio, format, chunks, warnings } = await readWavFile(file);
      const channels = audio.channels.map((channel) => {
        const one = { sampleRate: audio.sampleRate, channels: [channel] };
        return { peakDb: toDb(peak(one)), rmsDb: toDb(rms(one)) };
      });
      if (options.json) {
        printJson({ file, format, seconds: durationSeconds(audio), channels, chunks, warnings });
        return;
      }
      console.log(`${file}: ${describeFormat(format)}, ${durationSeconds(audio).toFixed(3)} s`);
      channels.forEach((level, c) => {
        console.log(
          `  channel ${c}: peak ${level.peakDb.toFixed(1)} dBFS, rms ${level.rmsDb.toFixed(1)} dBFS`,
        );
      });
      console.log(`  chunks: ${chunks.map((chunk) => `${chunk.id.trim()}(${chunk.size})`).join(" ")}`);
      for (const warning of warnings) console.log(`  warning: ${warning}`);
    });
}
