/**
 * Every error deepsp throws on purpose is a DeepspError with a stable `code` ("area/what"), so callers
 * (the CLI, the browser app) can branch on the kind of failure and print the message as one line.
 */
export class DeepspError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A WAV file that is not RIFF/WAVE, is truncated, or uses a format we do not read. */
export class WavError extends DeepspError {}

/** Options that fail validation: unknown names, out-of-range values, wrong types. */
export class OptionError extends DeepspError {}

/** An input/target pair that cannot be used as it is (rates, lengths, channels, non-finite samples). */
export class PairError extends DeepspError {}

/** An external program (sox, fluidsynth, espeak-ng...) is not installed or failed. */
export class ToolError extends DeepspError {}
