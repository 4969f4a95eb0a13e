import type { ExternalMaterialKind } from "./common.ts";
import { guitarKind, pianoKind } from "./fluidsynth.ts";
import { samplesKind } from "./samples.ts";
import { speechKind } from "./speech.ts";

/**
 * The external material catalogue: kinds that need something outside the library (a program, a
 * SoundFont, a sample package) and so live under src/node. The CLI lists them next to the built-in
 * generators and shows `unavailableReason()` for the ones that cannot run here.
 */

export type { ExternalMaterialKind } from "./common.ts";
export { commonShape } from "./common.ts";
export { DEFAULT_SOUNDFONT, guitarKind, pianoKind, renderMidi } from "./fluidsynth.ts";
export { encodeVarLen, guitarSong, type MidiEvent, type MidiSong, pianoSong, writeMidiFile } from "./midi.ts";
export { loadSample, sampleNames, samplesKind } from "./samples.ts";
export { BUILT_IN_SENTENCES, speak, speechKind } from "./speech.ts";

export const externalMaterials: readonly ExternalMaterialKind[] = [
  pianoKind,
  guitarKind,
  speechKind,
  samplesKind,
];

/** The external kind called `name`, or undefined. */
export function findExternalMaterial(name: string): ExternalMaterialKind | undefined {
  return externalMaterials.find((kind) => kind.name === name);
}
