import workletUrl from "../model-worklet.ts?worker&url";
import {
  type FromWorklet,
  PROCESSOR_NAME,
  STATS_AUDIO_MS,
  STATS_BUSY_MS,
  STATS_SLOTS,
  type ToWorklet,
  type WorkletOptions,
} from "./worklet-protocol.ts";

/*
 * The host side of the model worklet (web/model-worklet.ts, bundled by vite as its own module): live playback
 * of a file or the microphone through a model, its CPU load, and an offline render (OfflineAudioContext) that
 * the end-to-end tests compare with Node's output.
 */

export interface LiveModel {
  text: string;
  name: string;
}

/** CPU load since play started: busy time in process() / audio time produced. */
export interface LoadReading {
  load: number;
  audioSeconds: number;
}

export class LivePlayer {
  private context: AudioContext | null = null;
  private node: AudioWorkletNode | null = null;
  private source: AudioScheduledSourceNode | MediaStreamAudioSourceNode | null = null;
  private stream: MediaStream | null = null;
  private stats: Float64Array | null = null;
  private messageStats = { busyMs: 0, audioMs: 0 };
  private metering = false;

  constructor(private readonly onMessage: (message: FromWorklet) => void) {}

  get playing(): boolean {
    return this.context !== null;
  }

  /** Plays `input` (looped) or the microphone through the model, at `sampleRate` (the model's). */
  async start(model: LiveModel, input: Float32Array | "microphone", sampleRate: number): Promise<void> {
    await this.stop();
    const context = new AudioContext({ sampleRate, latencyHint: "interactive" });
    this.context = context;
    await context.audioWorklet.addModule(workletUrl);
    const stats =
      typeof SharedArrayBuffer === "function" && crossOriginIsolated
        ? new SharedArrayBuffer(STATS_SLOTS * 8)
        : undefined;
    this.stats = stats ? new Float64Array(stats) : null;
    this.messageStats = { busyMs: 0, audioMs: 0 };
    const options: WorkletOptions = {
      processorOptions: {
        text: model.text,
        name: model.name,
        meter: this.metering,
        ...(stats ? { stats } : {}),
      },
    };
    const node = new AudioWorkletNode(context, PROCESSOR_NAME, {
      ...options,
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [2],
    });
    node.port.onmessage = (event: MessageEvent<FromWorklet>) => {
      if (event.data.type === "stats")
        this.messageStats = { busyMs: event.data.busyMs, audioMs: event.data.audioMs };
      this.onMessage(event.data);
    };
    this.node = node;
    if (input === "microphone") {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      this.source = context.createMediaStreamSource(this.stream);
    } else {
      const buffer = context.createBuffer(1, input.length, sampleRate);
      buffer.getChannelData(0).set(input);
      const player = context.createBufferSource();
      player.buffer = buffer;
      player.loop = true;
      player.start();
      this.source = player;
    }
    this.source.connect(node).connect(context.destination);
  }

  /** Swaps the model without stopping the audio. */
  load(model: LiveModel): void {
    this.node?.port.postMessage({ type: "model", text: model.text, name: model.name } satisfies ToWorklet);
  }

  /** Turns the worklet's CPU meter on or off (off by default: then process() allocates nothing). */
  setMeter(on: boolean): void {
    this.metering = on;
    this.messageStats = { busyMs: 0, audioMs: 0 };
    if (this.stats) this.stats.fill(0);
    this.node?.port.postMessage({ type: "meter", on } satisfies ToWorklet);
  }

  /** Load since the meter started; null before anything was measured. */
  readLoad(): LoadReading | null {
    const now = this.stats
      ? { busyMs: this.stats[STATS_BUSY_MS]!, audioMs: this.stats[STATS_AUDIO_MS]! }
      : this.messageStats;
    return now.audioMs > 0 ? { load: now.busyMs / now.audioMs, audioSeconds: now.audioMs / 1000 } : null;
  }

  async stop(): Promise<void> {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.source?.disconnect();
    this.source = null;
    this.node?.disconnect();
    this.node = null;
    const context = this.context;
    this.context = null;
    await context?.close();
  }
}

/**
 * Renders `input` through the model in the worklet, in an OfflineAudioContext at `sampleRate`: the output the
 * live player would produce, sample for sample (the model loads in the processor's constructor, before the
 * first render quantum). Returns the first output channel.
 */
export async function renderOffline(
  model: LiveModel,
  input: Float32Array,
  sampleRate: number,
): Promise<Float32Array> {
  const context = new OfflineAudioContext({ numberOfChannels: 1, length: input.length, sampleRate });
  await context.audioWorklet.addModule(workletUrl);
  let failure: string | null = null;
  const node = new AudioWorkletNode(context, PROCESSOR_NAME, {
    processorOptions: { text: model.text, name: model.name },
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
  });
  node.port.onmessage = (event: MessageEvent<FromWorklet>) => {
    if (event.data.type === "error") failure = event.data.message;
  };
  const buffer = context.createBuffer(1, input.length, sampleRate);
  buffer.getChannelData(0).set(input);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(node).connect(context.destination);
  source.start();
  const rendered = await context.startRendering();
  if (failure !== null) throw new Error(failure);
  return rendered.getChannelData(0).slice();
}
