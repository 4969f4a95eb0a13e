import { Command, Option } from "commander";
import { OptionError } from "../../src/core/errors.ts";
import { writeModelFile } from "../../src/node/model-files.ts";
import { readPlayableModel, writeNamFile, writeRtneuralFile } from "../../src/node/model-io.ts";

interface ExportOptions {
  model: string;
  to: "nam" | "rtneural" | "deepsp";
  out: string;
  force?: boolean;
}

/**
 * `deepsp export`: writes a model in another format. To .nam: linear, lstm without input skip, wavenet and
 * NAM-shaped tcn models (src/io/nam/convert.ts says why others cannot be); to RTNeural/AIDA-X JSON: one-layer
 * lstm/gru models; to deepsp: any model that converts to a deepsp model (e.g. a .nam Linear, LSTM or classic
 * WaveNet, for fine-tuning).
 */
export function exportCommand(): Command {
  return new Command("export")
    .description("write a model as .nam, RTNeural/AIDA-X JSON, or a deepsp model file")
    .requiredOption("-m, --model <file>", "model file: deepsp (.json), .nam, or RTNeural/AIDA-X (.json)")
    .addOption(
      new Option("--to <format>", "the format to write")
        .choices(["nam", "rtneural", "deepsp"])
        .makeOptionMandatory(),
    )
    .requiredOption("-o, --out <file>", "the file to write")
    .option("--force", "replace --out if it exists")
    .action(async (options: ExportOptions) => {
      const playable = await readPlayableModel(options.model);
      const file = playable.file;
      if (!file) {
        throw new OptionError(
          "options/invalid",
          `${options.model}: this ${playable.architecture} model plays only through NAM's player; it has no deepsp equivalent to export`,
        );
      }
      const overwrite = options.force === true;
      if (options.to === "nam") await writeNamFile(options.out, file, { overwrite });
      else if (options.to === "rtneural") await writeRtneuralFile(options.out, file, { overwrite });
      else await writeModelFile(options.out, file, { overwrite });
      console.log(
        `${options.out}: ${file.model.architecture}, ${file.model.parameters.count} parameters, as ${options.to}`,
      );
    });
}
