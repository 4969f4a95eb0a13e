import { importModel } from "../src/io/import.ts";
import { playableModel } from "../src/io/playable.ts";
import type { StreamProcessor } from "../src/runtime/processor.ts";
import {
  type FromWorklet,
  PROCESSOR_NAME,
  STATS_AUDIO_MS,
  STATS_BUSY_MS,
  type ToWorklet,
  type WorkletOptions,
} from "./lib/worklet-protocol.ts";

/*
 * The AudioWorkletProcessor that plays a model: the library's streaming runtime (the same module Node runs)
 * on 128-frame render quanta. A model arrives as model file text (deepsp JSON, .nam, RTNeural) in the node's
 * processorOptions (ready before the first quantum, so an OfflineAudioContext renders it from sample 0) or
 * later in a message; loading allocates, process() does not (the runtime's contract, plus no arrays or
 * closures made here). A mono model runs on the first input channel and feeds every output channel.
 *
 * CPU load, when the page turns the meter on: the time inside process() over the audio time it produced. A
 * clock read returns a new heap number (V8 does not unbox performance.now() or Date.now() here: ~45 bytes per
 * timed quantum in Node, test/web/worklet.test.ts), so the meter times one quantum in TIMED_EVERY and counts it
 * TIMED_EVERY times (~12 bytes per quantum: a young-generation collection per hour or so of play); with the
 * meter off, process() allocates nothing. The clock is performance.now() where the scope has it, else Date.now()
 * (Chromium's worklet scope), whose 1 ms ticks still sum without bias (the expected number of ticks inside d ms
 * is d whatever the phase); the page shows the average since the meter started, which settles within seconds.
 * Figures go to a SharedArrayBuffer when the page is cross-origin isolated, else in a message twice a second.
 */

declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, processor: new (options: WorkletOptions) => unknown): void;
declare const sampleRate: number;

const TIMED_EVERY = 4;
const clock: { now(): number } = (globalThis as { performance?: { now(): number } }).performance ?? Date;

class ModelProcessor extends AudioWorkletProcessor {
  private processor: StreamProcessor | null = null;
  private readonly inputs: Float32Array[] = [new Float32Array(0)];
  private readonly outputs: Float32Array[] = [new Float32Array(0)];
  private readonly stats: Float64Array | null;
  private busyMs = 0;
  private audioMs = 0;
  private lastReport = 0;
  private quanta = 0;
  private metering: boolean;

  constructor(options: WorkletOptions) {
    super();
    const init = options.processorOptions ?? {};
    this.stats = init.stats ? new Float64Array(init.stats) : null;
    this.metering = init.meter === true;
    if (init.text !== undefined) this.load(init.text, init.name ?? "model");
    this.port.onmessage = (event: MessageEvent<ToWorklet>) => {
      const message = event.data;
      if (message.type === "model") this.load(message.text, message.name);
      else if (message.type === "unload") this.processor = null;
      else if (message.type === "meter") this.meter(message.on);
      else this.processor?.reset();
    };
  }

  private load(text: string, name: string): void {
    try {
      const playable = playableModel(importModel(text, { source: name, verify: false }), name);
      const processor = playable.createProcessor(1);
      processor.prepare(sampleRate, 128);
      this.processor = processor;
      this.busyMs = 0;
      this.audioMs = 0;
      this.post({
        type: "loaded",
        name,
        architecture: playable.architecture,
        modelSampleRate: playable.sampleRate,
        parameters: playable.parameters,
      });
    } catch (error) {
      this.post({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
  }

  private meter(on: boolean): void {
    this.metering = on;
    this.busyMs = 0;
    this.audioMs = 0;
    this.lastReport = 0;
  }

  private post(message: FromWorklet): void {
    this.port.postMessage(message);
  }

  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    if (!out || out.length === 0) return true;
    const frames = out[0]!.length;
    const source = inputs[0]?.[0];
    const processor = this.processor;
    if (!processor || !source) {
      for (let c = 0; c < out.length; c++) out[c]!.fill(0);
      return true;
    }
    const metering = this.metering;
    const timed = metering && this.quanta++ % TIMED_EVERY === 0;
    const start = timed ? clock.now() : 0;
    this.inputs[0] = source;
    this.outputs[0] = out[0]!;
    processor.process(this.inputs, this.outputs, frames);
    for (let c = 1; c < out.length; c++) out[c]!.set(out[0]!);
    if (!metering) return true;
    if (timed) this.busyMs += TIMED_EVERY * (clock.now() - start);
    this.audioMs += (1000 * frames) / sampleRate;
    if (this.stats) {
      this.stats[STATS_BUSY_MS] = this.busyMs;
      this.stats[STATS_AUDIO_MS] = this.audioMs;
    } else if (this.audioMs - this.lastReport >= 500) {
      this.lastReport = this.audioMs;
      this.post({ type: "stats", busyMs: this.busyMs, audioMs: this.audioMs });
    }
    return true;
  }
}

registerProcessor(PROCESSOR_NAME, ModelProcessor);
