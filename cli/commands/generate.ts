import { Command, Option } from "commander";
import { durationSeconds, peak, toDb } from "../../src/audio/audio.ts";
import type { WavEncoding } from "../../src/audio/wav.ts";
import { writeWavFile } from "../../src/node/files.ts";
import { addSchemaOptions, schemaValues } from "../schema-options.ts";
import { allMaterials } from "./material.ts";

export function generateCommand(): Command {
  const generate = new Command("generate")
    .description("render built-in or external material to a WAV file (see `deepsp material list`)")
    .usage("<kind> [options] --out file.wav");
  for (const kind of allMaterials()) {
    const command = new Command(kind.name)
      .description(kind.description)
      .requiredOption("-o, --out <file>", "WAV file to write")
      .addOption(
        new Option("--encoding <encoding>", "sample format of the file")
          .choices(["pcm16", "pcm24", "float32"])
          .default("float32"),
      )
      .option("--force", "overwrite --out if it exists");
    addSchemaOptions(command, kind.schema);
    command.action(async (options: Record<string, unknown>) => {
      const audio = await kind.generate(schemaValues(kind.schema, options));
      const out = options["out"] as string;
      await writeWavFile(out, audio, {
        encoding: options["encoding"] as WavEncoding,
        overwrite: options["force"] === true,
      });
      console.log(
        `${out}: ${kind.name}, ${audio.channels.length} ch, ${audio.sampleRate} Hz, ` +
          `${durationSeconds(audio).toFixed(3)} s, peak ${toDb(peak(audio)).toFixed(1)} dBFS`,
      );
    });
    generate.addCommand(command);
  }
  return generate;
}
