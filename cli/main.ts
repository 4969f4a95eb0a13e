import { Command, CommanderError } from "commander";
import { DeepspError } from "../src/core/errors.ts";
import { enableRelaxedSimd } from "../src/node/wasm.ts";
import { demoCommand } from "./commands/demo.ts";
import { effectsCommand } from "./commands/effects.ts";
import { evalCommand } from "./commands/eval.ts";
import { experimentCommand } from "./commands/experiment.ts";
import { exportCommand } from "./commands/export.ts";
import { generateCommand } from "./commands/generate.ts";
import { infoCommand } from "./commands/info.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { materialCommand } from "./commands/material.ts";
import { pairCommand } from "./commands/pair.ts";
import { presetsCommand } from "./commands/presets.ts";
import { processCommand } from "./commands/process.ts";
import { renderCommand } from "./commands/render.ts";
import { reportCommand } from "./commands/report.ts";
import { serveCommand } from "./commands/serve.ts";
import { trainCommand } from "./commands/train.ts";

// The training kernels' fused multiply-add build needs a V8 flag on Node 20 (src/node/wasm.ts).
enableRelaxedSimd();

const program = new Command("deepsp")
  .description(
    "Capture audio effects into neural networks: material, pairs, training, evaluation, real-time runs.",
  )
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .addCommand(demoCommand())
  .addCommand(generateCommand())
  .addCommand(materialCommand())
  .addCommand(effectsCommand())
  .addCommand(renderCommand())
  .addCommand(pairCommand())
  .addCommand(trainCommand())
  .addCommand(presetsCommand())
  .addCommand(processCommand())
  .addCommand(evalCommand())
  .addCommand(reportCommand())
  .addCommand(experimentCommand())
  .addCommand(serveCommand())
  .addCommand(exportCommand())
  .addCommand(inspectCommand())
  .addCommand(infoCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}

/** Prints one clear line for an expected failure and returns the exit code (0 for --help / --version). */
function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode; // commander already printed its message
  if (error instanceof DeepspError) {
    console.error(`deepsp: ${error.message}`);
    return 1;
  }
  // A bug, not a user mistake: say so, with the stack for the report.
  console.error(`deepsp: internal error: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env["DEEPSP_DEBUG"] && error instanceof Error) console.error(error.stack);
  return 70;
}
