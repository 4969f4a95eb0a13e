import { Command } from "commander";
import { describePreset, PRESETS } from "../../src/nn/models/presets.ts";
import { formatTable, printJson } from "../output.ts";

export function presetsCommand(): Command {
  return new Command("presets")
    .description("list the model presets: architecture, size, receptive field and training recipe")
    .option("--json", "print JSON (with the full model and training configs)")
    .action((options: { json?: boolean }) => {
      const rows = PRESETS.map((preset) => ({ ...preset, ...describePreset(preset) }));
      if (options.json) {
        printJson(rows);
        return;
      }
      const table = [["preset", "architecture", "parameters", "receptive field", "description"]];
      for (const row of rows) {
        const field =
          row.model.architecture === "lstm" || row.model.architecture === "gru"
            ? "recurrent"
            : String(row.receptiveField);
        table.push([row.name, row.model.architecture, String(row.parameters), field, row.description]);
      }
      console.log(formatTable(table));
    });
}
