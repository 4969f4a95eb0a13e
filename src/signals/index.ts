export { builtinMaterials, findMaterial, type MaterialKind } from "./catalogue.ts";
export {
  type CommonOptions,
  dbToGain,
  midiToHz,
  type StereoMode,
  stereoModes,
  type Waveform,
  waveforms,
} from "./common.ts";
export {
  type BlipsOptions,
  blips,
  blipsSchema,
  type ChirpsOptions,
  chirps,
  chirpsSchema,
  type MarkedAudio,
  type SilenceOptions,
  silence,
  silenceSchema,
} from "./events.ts";
export { type Instrument, instruments, type MelodyOptions, melody, melodySchema, scales } from "./melody.ts";
export {
  amplitudeMeasures,
  type NoiseOptions,
  noise,
  noiseColors,
  noiseDistributions,
  noiseSchema,
} from "./noise.ts";
export { type SweepMode, sweepModes, TAPER_END, TAPER_START } from "./oscillators.ts";
export {
  type Section,
  type StandardAudio,
  type StandardLayout,
  type StandardOptions,
  standard,
  standardLayout,
  standardSchema,
} from "./standard.ts";
export { type SweepOptions, sweep, sweepSchema } from "./sweeps.ts";
export {
  type ChordName,
  type ChordOptions,
  chord,
  chordIntervals,
  chordNames,
  chordSchema,
  type ToneOptions,
  tone,
  toneSchema,
} from "./tones.ts";
