import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Audio } from "../audio/audio.ts";
import { type DecodedWav, decodeWav, encodeWav, type WavEncoding } from "../audio/wav.ts";
import { DeepspError } from "../core/errors.ts";

/** Reading or writing a file failed (missing, unreadable, exists and may not be overwritten). */
export class FileError extends DeepspError {}

/**
 * Writes `data` so that `path` either keeps its old content or gets the whole new content, never a part:
 * the bytes go to a temporary file in the same folder, flushed to disk, then renamed over `path` (atomic
 * on one file system). The temporary file is removed if anything fails. Refuses to replace an existing file
 * unless `overwrite` is true, so nothing a user made is lost by accident.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  if (!options.overwrite && existsSync(path)) {
    throw new FileError(
      "file/exists",
      `${path} already exists (pass --force / overwrite: true to replace it)`,
    );
  }
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    // fsync before the rename: after a crash or power loss the new name never points at unwritten data.
    const file = await open(temporary, "wx");
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new FileError("file/write", `cannot write ${path}: ${messageOf(error)}`, { cause: error });
  }
}

/** Reads a whole file, with a FileError naming the path when it is missing or unreadable. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder, not a file" : messageOf(error);
    throw new FileError("file/read", `cannot read ${path}: ${reason}`, { cause: error });
  }
}

/** Reads and decodes a WAV file; errors name the file. */
export async function readWavFile(path: string): Promise<DecodedWav> {
  return decodeWav(await readFileBytes(path), { source: path });
}

/** Encodes and writes a WAV file atomically. */
export async function writeWavFile(
  path: string,
  audio: Audio,
  options: { encoding?: WavEncoding; overwrite?: boolean } = {},
): Promise<void> {
  const bytes = encodeWav(audio, options.encoding === undefined ? {} : { encoding: options.encoding });
  await writeFileAtomic(path, bytes, options);
}

/** Writes pretty-printed JSON atomically. */
export async function writeJsonFile(
  path: string,
  value: unknown,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
