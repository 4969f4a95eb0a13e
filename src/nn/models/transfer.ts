import { DeepspError } from "../../core/errors.ts";
import type { Model } from "./model.ts";

/**
 * Transfer learning, the study's idea: start a new model from another trained model's front-end layers
 * (e.g. the conv filters a seedconv learned on other effects) and train the rest on little data.
 * Copies every tensor of `source` whose name starts with one of `prefixes` into the tensor of the same
 * name in `target` (shapes must match), optionally freezing the copies so the optimizer leaves them alone.
 * Returns the names copied.
 */
export function transferParameters(
  source: Model,
  target: Model,
  options: { prefixes: readonly string[]; freeze: boolean },
): string[] {
  const copied: string[] = [];
  for (const prefix of options.prefixes) {
    const matches = source.parameters.entries.filter((entry) => entry.name.startsWith(prefix));
    if (matches.length === 0) {
      const names = source.parameters.entries.map((entry) => entry.name).join(", ");
      throw new DeepspError(
        "model/transfer",
        `no tensor of the source ${source.architecture} model starts with "${prefix}" (tensors: ${names})`,
      );
    }
    for (const entry of matches) {
      const into = target.parameters.entries.find((candidate) => candidate.name === entry.name);
      if (!into)
        throw new DeepspError(
          "model/transfer",
          `the target ${target.architecture} model has no tensor "${entry.name}"`,
        );
      if (into.shape.join("x") !== entry.shape.join("x")) {
        throw new DeepspError(
          "model/transfer",
          `tensor "${entry.name}" is [${entry.shape.join(", ")}] in the source but [${into.shape.join(", ")}] in the target`,
        );
      }
      target.parameters.value(entry.name).set(source.parameters.value(entry.name));
      copied.push(entry.name);
    }
  }
  if (options.freeze) target.parameters.setFrozen(copied, true);
  return copied;
}
