/* The page <-> model worklet (web/model-worklet.ts) protocol, shared by both sides. */

export const PROCESSOR_NAME = "deepsp-model";

export interface WorkletOptions {
  /** meter: time process() for the CPU load display (off: process() allocates nothing). */
  processorOptions?: { text?: string; name?: string; stats?: SharedArrayBuffer; meter?: boolean };
}

export type ToWorklet =
  | { type: "model"; text: string; name: string }
  | { type: "unload" }
  | { type: "reset" }
  | { type: "meter"; on: boolean };
export type FromWorklet =
  | { type: "loaded"; name: string; architecture: string; modelSampleRate: number; parameters: number }
  | { type: "error"; message: string }
  | { type: "stats"; busyMs: number; audioMs: number };

/** Float64 slots of the shared stats buffer. */
export const STATS_BUSY_MS = 0;
export const STATS_AUDIO_MS = 1;
export const STATS_SLOTS = 2;
