import { type ImportedModel, importModel } from "../io/import.ts";
import type { ModelFileInput } from "../io/model-file.ts";
import { namFromModelFile } from "../io/nam/convert.ts";
import { type PlayableModel, playableModel } from "../io/playable.ts";
import { rtneuralFromModelFile } from "../io/rtneural/convert.ts";
import { FileError, readFileBytes, writeFileAtomic } from "./files.ts";

/**
 * Reads any model file deepsp knows, recognised by its content (src/io/import.ts): a deepsp model file, a
 * .nam file or an RTNeural/AIDA-X file. Returns { kind: "deepsp", format, file } with a deepsp model, or
 * { kind: "nam", nam } for a .nam file only NAM's own player can run (A2 WaveNets, ConvNet, containers).
 * `verify` (default true) replays embedded test vectors. Errors name the path.
 */
export async function readAnyModel(path: string, options: { verify?: boolean } = {}): Promise<ImportedModel> {
  const bytes = await readFileBytes(path);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new FileError("file/read", `${path}: not a model file: not UTF-8 text`, { cause: error });
  }
  return importModel(text, { source: path, ...options });
}

/**
 * Writes a model as a .nam file, atomically (src/io/nam/convert.ts says which models convert). Refuses to
 * replace an existing file unless `overwrite` is true.
 */
export async function writeNamFile(
  path: string,
  file: ModelFileInput,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(namFromModelFile(file, { source: path }))}\n`, options);
}

/**
 * Writes a model as an RTNeural/AIDA-X JSON file, atomically (src/io/rtneural/convert.ts says which models
 * convert). Refuses to replace an existing file unless `overwrite` is true.
 */
export async function writeRtneuralFile(
  path: string,
  file: ModelFileInput,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(rtneuralFromModelFile(file, { source: path }))}\n`, options);
}

/** Reads any model file (as readAnyModel) as something deepsp can play (src/io/playable.ts). */
export async function readPlayableModel(
  path: string,
  options: { verify?: boolean } = {},
): Promise<PlayableModel> {
  return playableModel(await readAnyModel(path, options), path);
}
