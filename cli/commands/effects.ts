import { Command, Option } from "commander";
import type { Engine } from "../../src/effects/effect.ts";
import { nodeEffects } from "../../src/node/effect-registry.ts";
import { listLv2Plugins } from "../../src/node/effects/index.ts";
import { formatTable, printJson } from "../output.ts";
import { describeSchema, type FieldInfo } from "../schema-options.ts";

export function effectsCommand(): Command {
  const effects = new Command("effects").description(
    "the effect library: what can render targets to capture",
  );
  effects
    .command("list")
    .description("list effects with their parameters, ranges and defaults, and whether they work here")
    .addOption(
      new Option("--engine <engine>", "only this engine").choices([
        "builtin",
        "webaudio",
        "sox",
        "lv2",
        "ffmpeg",
      ]),
    )
    .option(
      "--lv2-plugins",
      "list the LV2 plugins installed on this machine instead (lv2.plugin can run any of them)",
    )
    .option("--json", "print JSON")
    .action(async (options: { engine?: Engine; lv2Plugins?: boolean; json?: boolean }) => {
      if (options.lv2Plugins) {
        const plugins = await listLv2Plugins();
        if (options.json) return printJson(plugins);
        console.log(formatTable([["uri", "name"], ...plugins.map((plugin) => [plugin.uri, plugin.name])]));
        return;
      }
      const list = await Promise.all(
        nodeEffects()
          .filter((effect) => !options.engine || effect.engine === options.engine)
          .map(async (effect) => ({
            name: effect.name,
            engine: effect.engine,
            description: effect.description,
            unavailable: (await effect.unavailableReason?.()) ?? null,
            parameters: describeSchema(effect.schema),
          })),
      );
      if (options.json) return printJson(list);
      for (const effect of list) {
        const status = effect.unavailable ? `  [missing: ${effect.unavailable}]` : "";
        console.log(`${effect.name} (${effect.engine}): ${effect.description}${status}`);
        for (const parameter of effect.parameters)
          console.log(`    ${parameter.name.padEnd(16)} ${describeParameter(parameter)}`);
      }
      console.log(
        '\nChain effects with |, e.g. --effect "lowpass(cutoffHz=800) | drive(gainDb=20) | reverb(roomSize=0.5)"',
      );
    });
  return effects;
}

function describeParameter(parameter: FieldInfo): string {
  const range =
    parameter.choices !== undefined
      ? parameter.choices.join(" | ")
      : parameter.min !== undefined || parameter.max !== undefined
        ? `${parameter.type} in [${parameter.min ?? "-inf"}, ${parameter.max ?? "inf"}]`
        : parameter.type;
  const fallback = parameter.default === undefined ? "" : `, default ${JSON.stringify(parameter.default)}`;
  return `${range}${fallback}${parameter.description ? `: ${parameter.description}` : ""}`;
}
