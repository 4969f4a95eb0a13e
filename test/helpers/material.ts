import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeWav } from "../../src/audio/wav.ts";
import { biquadCoefficients, biquadFilter } from "../../src/dsp/biquad.ts";
import { melody, noise, sweep } from "../../src/signals/index.ts";

/**
 * Training material for the end-to-end tests, at 8 kHz to keep them fast: white noise, a melody, a sweep,
 * quiet pink noise, then another melody (another seed) that fills the last 30%, so a 0.7/0.15/0.15 split
 * validates and tests on music the model never trained on. Writes input.wav, lowpass.wav (1 kHz Butterworth biquad) and drive.wav (tanh(10 x) after
 * the low-pass) into `folder`.
 */
export function writeTrainingPairs(folder: string): { input: string; lowpass: string; drive: string } {
  const sampleRate = 8000;
  const parts = [
    noise({ seconds: 2, sampleRate, amplitude: 0.6, seed: 2 }),
    melody({ seconds: 3, sampleRate, amplitude: 0.7, seed: 1 }),
    sweep({ seconds: 2, sampleRate, amplitude: 0.5, endHz: 3500 }),
    noise({ seconds: 1.5, sampleRate, amplitude: 0.2, color: "pink", seed: 3 }),
    melody({ seconds: 3.5, sampleRate, amplitude: 0.7, seed: 2 }),
  ];
  const x = new Float32Array(parts.reduce((sum, part) => sum + part.channels[0]!.length, 0));
  parts.reduce((offset, part) => {
    x.set(part.channels[0]!, offset);
    return offset + part.channels[0]!.length;
  }, 0);
  const lowpass = biquadFilter(x, biquadCoefficients({ type: "lowpass", frequencyHz: 1000, sampleRate }));
  const drive = lowpass.map((v) => Math.tanh(10 * v));
  const paths = {
    input: join(folder, "input.wav"),
    lowpass: join(folder, "lowpass.wav"),
    drive: join(folder, "drive.wav"),
  };
  writeFileSync(paths.input, encodeWav({ sampleRate, channels: [x] }));
  writeFileSync(paths.lowpass, encodeWav({ sampleRate, channels: [lowpass] }));
  writeFileSync(paths.drive, encodeWav({ sampleRate, channels: [drive] }));
  return paths;
}
