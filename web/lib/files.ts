import type { Audio } from "../../src/audio/audio.ts";
import { decodeWav } from "../../src/audio/wav.ts";

/** Reads a dropped or chosen audio file with the library's WAV reader; errors name the file. */
export async function readAudioFile(file: File): Promise<Audio> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return decodeWav(bytes).audio;
  } catch (error) {
    throw new Error(`${file.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Offers `text` as a file download (nothing leaves the machine: an object URL). */
export function download(name: string, text: string, type = "application/json"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
