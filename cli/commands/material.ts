import { Command } from "commander";
import type { z } from "zod";
import type { Audio } from "../../src/audio/audio.ts";
import { externalMaterials } from "../../src/node/material/index.ts";
import { builtinMaterials } from "../../src/signals/index.ts";
import { formatTable, printJson } from "../output.ts";

/** A built-in generator or an external source, seen the same way by the CLI. */
export interface AnyMaterial {
  name: string;
  description: string;
  schema: z.ZodObject;
  source: "built-in" | "external";
  unavailableReason(): Promise<string | undefined>;
  generate(options: Record<string, unknown>): Promise<Audio>;
}

export function allMaterials(): AnyMaterial[] {
  return [
    ...builtinMaterials.map((kind) => ({
      name: kind.name,
      description: kind.description,
      schema: kind.schema,
      source: "built-in" as const,
      unavailableReason: async () => undefined,
      generate: async (options: Record<string, unknown>) => kind.generate(options),
    })),
    ...externalMaterials.map((kind) => ({
      name: kind.name,
      description: kind.description,
      schema: kind.schema,
      source: "external" as const,
      unavailableReason: () => kind.unavailableReason(),
      generate: (options: Record<string, unknown>) => kind.generate(options),
    })),
  ];
}

export function materialCommand(): Command {
  const material = new Command("material").description("what material deepsp can generate or collect");
  material
    .command("list")
    .description("list material kinds, where they come from and whether they work on this machine")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const kinds = await Promise.all(
        allMaterials().map(async (kind) => ({
          name: kind.name,
          source: kind.source,
          description: kind.description,
          unavailable: (await kind.unavailableReason()) ?? null,
          options: Object.keys(kind.schema.shape),
        })),
      );
      if (options.json) {
        printJson(kinds);
        return;
      }
      const rows = [["kind", "source", "status", "description"]];
      for (const kind of kinds)
        rows.push([kind.name, kind.source, kind.unavailable ? "missing" : "ready", kind.description]);
      console.log(formatTable(rows));
      for (const kind of kinds.filter((k) => k.unavailable)) console.log(`${kind.name}: ${kind.unavailable}`);
      console.log("\nOptions of a kind: deepsp generate <kind> --help");
    });
  return material;
}
