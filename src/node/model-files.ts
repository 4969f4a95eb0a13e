import { type ModelFile, type ModelFileInput, parseModelFile, serializeModel } from "../io/model-file.ts";
import { readFileBytes, writeFileAtomic } from "./files.ts";

/**
 * Reads and validates a deepsp model file (src/io/model-file.ts); errors name the path. `verify` (default
 * true) replays the file's snapshot and refuses the file if this runtime's output differs.
 */
export async function readModelFile(path: string, options: { verify?: boolean } = {}): Promise<ModelFile> {
  const bytes = await readFileBytes(path);
  return parseModelFile(bytes, { source: path, ...options });
}

/**
 * Serializes a model and writes it atomically (the file gets the whole new content or keeps its old one).
 * Refuses to replace an existing file unless `overwrite` is true (FileError "file/exists").
 */
export async function writeModelFile(
  path: string,
  file: ModelFileInput,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  const text = serializeModel(file, { source: path });
  await writeFileAtomic(path, text, options);
}
