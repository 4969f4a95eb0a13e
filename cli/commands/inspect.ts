import { Command } from "commander";
import type { PlayableModel } from "../../src/io/playable.ts";
import { readPlayableModel } from "../../src/node/model-io.ts";
import { formatTable, printJson } from "../output.ts";

/** `deepsp inspect model <file>`: what a model file holds, whatever its format. */
export function inspectCommand(): Command {
  const model = new Command("model")
    .description("a model file's format, architecture, size, receptive field, sample rate and metadata")
    .argument("<file>", "deepsp model (.json), .nam, or RTNeural/AIDA-X (.json)")
    .option("--json", "print it as JSON")
    .action(async (path: string, options: { json?: boolean }) => {
      const playable = await readPlayableModel(path);
      const facts = describe(playable);
      if (options.json) {
        printJson(JSON.parse(JSON.stringify(facts, countWeights)));
        return;
      }
      console.log(
        formatTable(
          Object.entries(facts)
            .filter(([key]) => key !== "metadata" && key !== "config")
            .map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
        ),
      );
      console.log(`config:   ${JSON.stringify(facts.config, countWeights)}`);
      console.log(`metadata: ${JSON.stringify(facts.metadata, null, 2)}`);
    });
  return new Command("inspect").description("look inside files").addCommand(model);
}

function describe(model: PlayableModel) {
  const nam = model.nam;
  return {
    file: model.source,
    format: model.format,
    architecture: model.architecture,
    parameters: model.parameters,
    receptiveField: model.receptiveField === null ? "recurrent (state)" : model.receptiveField,
    sampleRate: model.sampleRate,
    channels: model.channels,
    latencySamples: model.latencySamples,
    ...(nam ? { namVersion: nam.version, namSampleRate: nam.sampleRate ?? "not given (48000 assumed)" } : {}),
    exports: model.file
      ? "nam / rtneural where the architecture allows (deepsp export)"
      : "none (NAM player only)",
    config: nam ? nam.config : (model.file?.model.toConfig() ?? null),
    metadata: nam ? nam.metadata : (model.file?.metadata ?? {}),
  };
}

/** JSON.stringify replacer: nested .nam weight lists (submodels, condition DSPs) shown as their length. */
function countWeights(key: string, value: unknown): unknown {
  return key === "weights" && Array.isArray(value) ? `${value.length} weights` : value;
}
