/**
 * Any model file deepsp reads, recognised by its content (not its name), platform-neutral:
 *   a deepsp model file ("format": "deepsp-model")                  -> a deepsp model
 *   a .nam file ("version", "architecture", "config", "weights")    -> a deepsp model when it is a Linear,
 *       LSTM or classic WaveNet; otherwise (A2 WaveNet, ConvNet, containers, multichannel) the parsed file,
 *       for NAM's own player
 *   an RTNeural / AIDA-X file ("in_shape", "layers")                -> a deepsp model
 */
import { DeepspError } from "../core/errors.ts";
import { MODEL_FILE_FORMAT, type ModelFile, ModelFileError, parseModelFile } from "./model-file.ts";
import { modelFileFromNam } from "./nam/convert.ts";
import { type NamFile, parseNamFile } from "./nam/file.ts";
import { modelFileFromRtneural } from "./rtneural/convert.ts";

export type ModelFormat = "deepsp" | "nam" | "rtneural";

/**
 * A model deepsp runs (`format`: where it came from; a .nam file also keeps `nam`, which NAM's player plays
 * exactly, e.g. from an LSTM's stored initial state), or a .nam file that only NAM's player can run.
 */
export type ImportedModel =
  | { kind: "deepsp"; format: ModelFormat; file: ModelFile; nam?: NamFile }
  | { kind: "nam"; nam: NamFile };

/** Which format a parsed JSON document is, or null when it is none of them. */
export function detectModelFormat(json: unknown): ModelFormat | null {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
  const top = json as Record<string, unknown>;
  if (top["format"] === MODEL_FILE_FORMAT) return "deepsp";
  if (typeof top["version"] === "string" && "architecture" in top && "config" in top) return "nam";
  if ("in_shape" in top && Array.isArray(top["layers"])) return "rtneural";
  return null;
}

/**
 * Reads a model file's text. `verify` (default true) replays a deepsp file's snapshot or an RTNeural file's
 * test vectors. Errors name `source`: ModelFileError, NamError or RtneuralError from the format's reader.
 */
export function importModel(
  text: string,
  options: { source?: string; verify?: boolean } = {},
): ImportedModel {
  const source = options.source ?? "model file";
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new ModelFileError(
      "model-file/not-json",
      `${source}: not a model file: not valid JSON (${(error as Error).message})`,
    );
  }
  const format = detectModelFormat(json);
  switch (format) {
    case "deepsp":
      return { kind: "deepsp", format, file: parseModelFile(text, { source, verify: options.verify }) };
    case "rtneural":
      return {
        kind: "deepsp",
        format,
        file: modelFileFromRtneural(json, { source, verify: options.verify }),
      };
    case "nam": {
      const nam = parseNamFile(json, source);
      try {
        return { kind: "deepsp", format, file: modelFileFromNam(nam), nam };
      } catch (error) {
        if (error instanceof DeepspError && error.code === "nam/unsupported") return { kind: "nam", nam };
        throw error;
      }
    }
    case null:
      throw new ModelFileError(
        "model-file/format",
        `${source}: not a model file deepsp knows: expected a deepsp model ("format": "${MODEL_FILE_FORMAT}"), a .nam file ("architecture", "config", "weights") or an RTNeural/AIDA-X file ("in_shape", "layers")`,
      );
  }
}
