import { frameCount } from "../audio/audio.ts";
import { OptionError } from "../core/errors.ts";
import { deriveSeed, Rng } from "../core/rng.ts";
import type { Pair } from "./pair.ts";
import type { Region, Role, Split } from "./split.ts";

export interface WindowOptions {
  /** Target frames per window: the samples the loss sees. */
  length: number;
  /** Frames between consecutive window starts. Default: round(length / overlap). */
  hop?: number;
  /** Each frame lands in about this many windows when `hop` is not given. Default 10, as in the study. */
  overlap?: number;
  /**
   * Input frames before each window's first target frame: a causal model's receptive field minus one, so
   * the first output of a window sees a full history. Taken from inside the same region, never from
   * another role's audio. Default 0.
   */
  prefix?: number;
  /** "keep" (default): windows carry all channels together; "split": each channel is a mono window. */
  stereo?: "keep" | "split";
}

/** A pair and the regions of it that one role may use. */
export interface WindowSource {
  pair: Pair;
  regions: readonly Region[];
}

/** One batch, laid out [batch][channel][time] in contiguous Float32Arrays (views of reused buffers). */
export interface Batch {
  /** [size, channels, prefix + length] */
  input: Float32Array;
  /** [size, channels, length] */
  target: Float32Array;
  size: number;
  channels: number;
  /** Window indices in this batch, in order (for tracing a batch back to the audio). */
  windows: Int32Array;
}

/**
 * Sliding windows over the regions of one role. Only an index list is stored (source, channel, start:
 * 9 bytes a window); samples are copied from the pairs into two reused batch buffers on demand, so an
 * epoch over 10 minutes of stereo 48 kHz audio costs no extra memory beyond one batch.
 */
export class Windows {
  readonly count: number;
  /** Channels per window: the pairs' channel count ("keep") or 1 ("split"). */
  readonly channels: number;
  readonly length: number;
  readonly prefix: number;
  readonly hop: number;
  private readonly sources: readonly WindowSource[];
  private readonly sourceOf: Int32Array;
  /** -1: all channels ("keep"); else the channel of a mono window. */
  private readonly channelOf: Int8Array;
  /** Frame index of the window's first target sample. */
  private readonly startOf: Int32Array;

  constructor(sources: readonly WindowSource[], options: WindowOptions) {
    const length = options.length;
    const prefix = options.prefix ?? 0;
    const overlap = options.overlap ?? 10;
    const hop = options.hop ?? Math.max(1, Math.round(length / overlap));
    const stereo = options.stereo ?? "keep";
    if (!(Number.isInteger(length) && length > 0))
      throw invalid("length", "a whole number of frames > 0", length);
    if (!(Number.isInteger(prefix) && prefix >= 0))
      throw invalid("prefix", "a whole number of frames >= 0", prefix);
    if (!(Number.isInteger(hop) && hop > 0)) throw invalid("hop", "a whole number of frames > 0", hop);
    if (!(overlap > 0)) throw invalid("overlap", "a number > 0", overlap);
    if (sources.length === 0) throw invalid("sources", "at least one pair", 0);
    const channelCounts = new Set(sources.map((source) => source.pair.input.channels.length));
    if (stereo === "keep" && channelCounts.size > 1) {
      throw invalid(
        "sources",
        "pairs with equal channel counts (or stereo: split)",
        [...channelCounts].join(" and "),
      );
    }
    const pairChannels = sources[0]!.pair.input.channels.length;

    const starts: number[] = [];
    const sourceIndices: number[] = [];
    sources.forEach((source, index) => {
      const frames = frameCount(source.pair.input);
      for (const region of source.regions) {
        if (region.start < 0 || region.end > frames || region.start >= region.end) {
          throw invalid("regions", `[start, end) within 0..${frames}`, `[${region.start}, ${region.end})`);
        }
        const first = region.start + prefix;
        const last = region.end - length; // last allowed start
        let start = first;
        for (; start <= last; start += hop) {
          starts.push(start);
          sourceIndices.push(index);
        }
        // One more window flush with the region's end, so its last frames are used too.
        if (last >= first && start - hop < last) {
          starts.push(last);
          sourceIndices.push(index);
        }
      }
    });
    const perStart = stereo === "split" ? pairChannels : 1;
    this.count = starts.length * perStart;
    this.sourceOf = new Int32Array(this.count);
    this.channelOf = new Int8Array(this.count);
    this.startOf = new Int32Array(this.count);
    for (let i = 0; i < starts.length; i++) {
      for (let c = 0; c < perStart; c++) {
        const window = i * perStart + c;
        this.sourceOf[window] = sourceIndices[i]!;
        this.channelOf[window] = stereo === "split" ? c : -1;
        this.startOf[window] = starts[i]!;
      }
    }
    this.sources = sources;
    this.channels = stereo === "split" ? 1 : pairChannels;
    this.length = length;
    this.prefix = prefix;
    this.hop = hop;
  }

  /** Where window `index` comes from: its source pair, channel (-1 = all) and first target frame. */
  locate(index: number): { source: number; channel: number; start: number } {
    return { source: this.sourceOf[index]!, channel: this.channelOf[index]!, start: this.startOf[index]! };
  }

  /**
   * The windows in batches of `batchSize` (the last one may be smaller), shuffled with a generator seeded
   * by (seed, epoch) so an epoch's order does not depend on earlier epochs (a resumed run sees the same
   * order). The yielded arrays are views of two buffers allocated once per call and overwritten by the
   * next batch: use or copy a batch before asking for the next.
   */
  *batches(options: {
    batchSize: number;
    epoch?: number;
    seed?: number;
    shuffle?: boolean;
  }): Generator<Batch> {
    const batchSize = options.batchSize;
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw invalid("batchSize", "a whole number > 0", batchSize);
    const order = new Int32Array(this.count);
    for (let i = 0; i < this.count; i++) order[i] = i;
    if (options.shuffle ?? true) {
      new Rng(deriveSeed(options.seed ?? 0, "windows", options.epoch ?? 0)).shuffle(order);
    }
    const inputLength = this.prefix + this.length;
    const input = new Float32Array(batchSize * this.channels * inputLength);
    const target = new Float32Array(batchSize * this.channels * this.length);
    for (let first = 0; first < this.count; first += batchSize) {
      const size = Math.min(batchSize, this.count - first);
      for (let b = 0; b < size; b++) this.copyWindow(order[first + b]!, input, target, b);
      yield {
        input: input.subarray(0, size * this.channels * inputLength),
        target: target.subarray(0, size * this.channels * this.length),
        size,
        channels: this.channels,
        windows: order.subarray(first, first + size),
      };
    }
  }

  private copyWindow(index: number, input: Float32Array, target: Float32Array, slot: number): void {
    const { pair } = this.sources[this.sourceOf[index]!]!;
    const channel = this.channelOf[index]!;
    const start = this.startOf[index]!;
    const inputLength = this.prefix + this.length;
    for (let c = 0; c < this.channels; c++) {
      const from = channel < 0 ? c : channel;
      const inputOffset = (slot * this.channels + c) * inputLength;
      const targetOffset = (slot * this.channels + c) * this.length;
      input.set(pair.input.channels[from]!.subarray(start - this.prefix, start + this.length), inputOffset);
      target.set(pair.target.channels[from]!.subarray(start, start + this.length), targetOffset);
    }
  }
}

/** A pair with its split: the unit a dataset is made of (one take, or one file per role). */
export interface SplitPair {
  name: string;
  pair: Pair;
  split: Split;
}

/** The windows of one role over several split pairs. */
export function windowsForRole(parts: readonly SplitPair[], role: Role, options: WindowOptions): Windows {
  const sources = parts
    .map((part) => ({ pair: part.pair, regions: part.split.regions[role] }))
    .filter((source) => source.regions.length > 0);
  if (sources.length === 0) {
    throw new OptionError("options/invalid", `no audio is assigned to ${role}: check the split`);
  }
  const windows = new Windows(sources, options);
  if (windows.count === 0) {
    const longest = Math.max(
      ...sources.flatMap((source) => source.regions.map((region) => region.end - region.start)),
    );
    throw new OptionError(
      "options/invalid",
      `no ${role} window fits: a window needs prefix + length = ${windows.prefix + windows.length} frames, ` +
        `the longest ${role} region has ${longest}`,
    );
  }
  return windows;
}

function invalid(field: string, expected: string, got: unknown): OptionError {
  return new OptionError("options/invalid", `windows: ${field} must be ${expected}, got ${String(got)}`);
}
