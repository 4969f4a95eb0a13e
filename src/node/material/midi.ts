import { OptionError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";

/**
 * A small Standard MIDI File writer (format 0: one track) and seeded musical content to feed a
 * synthesizer (fluidsynth): a piano piece and a guitar part. Times are absolute ticks; the writer sorts
 * the events and turns them into delta times. Spec: "Standard MIDI-File Format Spec. 1.1" (MMA).
 * (Nothing here touches node:*; it lives under src/node because only the fluidsynth kinds use it.)
 */

export type MidiEvent =
  | { type: "noteOn"; tick: number; channel: number; note: number; velocity: number }
  | { type: "noteOff"; tick: number; channel: number; note: number; velocity: number }
  | { type: "programChange"; tick: number; channel: number; program: number }
  | { type: "controlChange"; tick: number; channel: number; controller: number; value: number }
  /** Tempo meta event: microseconds per quarter note (500000 = 120 bpm). */
  | { type: "tempo"; tick: number; microsecondsPerQuarter: number };

export interface MidiSong {
  /** Time resolution: ticks per quarter note (the header's "division"), 1..32767. */
  ticksPerQuarter: number;
  /** Events at absolute ticks, in any order. */
  events: readonly MidiEvent[];
  /** Tick of the End of Track event; default: the last event's tick. A player stops here. */
  endTick?: number;
}

/**
 * Encodes a song as a format-0 Standard MIDI File. Events at the same tick are written tempo, program
 * change, control change, note off, note on (stable otherwise), so a note repeated at the very tick
 * where the previous one ends is not cut off by that note-off.
 */
export function writeMidiFile(song: MidiSong): Uint8Array {
  checkSong(song);
  const events = song.events
    .map((event, index) => ({ event, index }))
    .sort(
      (a, b) => a.event.tick - b.event.tick || ORDER[a.event.type] - ORDER[b.event.type] || a.index - b.index,
    )
    .map(({ event }) => event);
  const lastTick = events.length > 0 ? events[events.length - 1]!.tick : 0;
  const endTick = song.endTick ?? lastTick;
  if (endTick < lastTick) {
    throw new OptionError(
      "midi/invalid",
      `MIDI song: endTick ${endTick} is before the last event at tick ${lastTick}`,
    );
  }

  const track: number[] = [];
  let previousTick = 0;
  for (const event of events) {
    track.push(...encodeVarLen(event.tick - previousTick));
    previousTick = event.tick;
    switch (event.type) {
      case "noteOn":
        track.push(0x90 | event.channel, event.note, event.velocity);
        break;
      case "noteOff":
        track.push(0x80 | event.channel, event.note, event.velocity);
        break;
      case "programChange":
        track.push(0xc0 | event.channel, event.program);
        break;
      case "controlChange":
        track.push(0xb0 | event.channel, event.controller, event.value);
        break;
      case "tempo": {
        const us = event.microsecondsPerQuarter;
        track.push(0xff, 0x51, 0x03, (us >>> 16) & 0xff, (us >>> 8) & 0xff, us & 0xff);
        break;
      }
    }
  }
  track.push(...encodeVarLen(endTick - previousTick), 0xff, 0x2f, 0x00); // End of Track

  const bytes = new Uint8Array(14 + 8 + track.length);
  const view = new DataView(bytes.buffer);
  bytes.set(ascii("MThd"), 0);
  view.setUint32(4, 6); // header length
  view.setUint16(8, 0); // format 0
  view.setUint16(10, 1); // one track
  view.setUint16(12, song.ticksPerQuarter); // bit 15 clear: ticks per quarter, not SMPTE
  bytes.set(ascii("MTrk"), 14);
  view.setUint32(18, track.length);
  bytes.set(track, 22);
  return bytes;
}

const ORDER: Record<MidiEvent["type"], number> = {
  tempo: 0,
  programChange: 1,
  controlChange: 2,
  noteOff: 3,
  noteOn: 4,
};

/**
 * MIDI variable-length quantity: 7 bits per byte, most significant group first, bit 7 set on every byte
 * but the last. 0x7f -> [7f], 0x80 -> [81 00], 0x3fff -> [ff 7f], 0x4000 -> [81 80 00]. Max 0x0fffffff.
 */
export function encodeVarLen(value: number): number[] {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0x0fffffff)) {
    throw new OptionError(
      "midi/invalid",
      `MIDI variable-length value must be an integer in 0..0x0fffffff, got ${value}`,
    );
  }
  const bytes = [value & 0x7f];
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) bytes.unshift((rest & 0x7f) | 0x80);
  return bytes;
}

function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

/** Checks every field once, here at the boundary, so the encoder above can trust the values. */
function checkSong(song: MidiSong): void {
  const fail = (what: string): never => {
    throw new OptionError("midi/invalid", `MIDI song: ${what}`);
  };
  const inRange = (value: number, low: number, high: number): boolean =>
    Number.isInteger(value) && value >= low && value <= high;
  if (!inRange(song.ticksPerQuarter, 1, 0x7fff))
    fail(`ticksPerQuarter must be an integer in 1..32767, got ${song.ticksPerQuarter}`);
  if (song.endTick !== undefined && !inRange(song.endTick, 0, 0x0fffffff))
    fail(`endTick must be an integer >= 0, got ${song.endTick}`);
  song.events.forEach((event, index) => {
    const at = `event ${index} (${event.type})`;
    const check = (name: string, value: number, low: number, high: number): void => {
      if (!inRange(value, low, high))
        fail(`${at}: ${name} must be an integer in ${low}..${high}, got ${value}`);
    };
    check("tick", event.tick, 0, 0x0fffffff);
    switch (event.type) {
      case "noteOn":
        check("channel", event.channel, 0, 15);
        check("note", event.note, 0, 127);
        check("velocity", event.velocity, 1, 127); // velocity 0 would mean note off
        break;
      case "noteOff":
        check("channel", event.channel, 0, 15);
        check("note", event.note, 0, 127);
        check("velocity", event.velocity, 0, 127);
        break;
      case "programChange":
        check("channel", event.channel, 0, 15);
        check("program", event.program, 0, 127);
        break;
      case "controlChange":
        check("channel", event.channel, 0, 15);
        check("controller", event.controller, 0, 127);
        check("value", event.value, 0, 127);
        break;
      case "tempo":
        check("microsecondsPerQuarter", event.microsecondsPerQuarter, 1, 0xffffff);
        break;
      default:
        fail(`${at}: unknown event type`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Seeded musical content

/** General MIDI controllers used below. */
const CC_SUSTAIN = 64;
const CC_REVERB_SEND = 91;
const CC_CHORUS_SEND = 93;

const TICKS_PER_QUARTER = 480;
const BEATS_PER_BAR = 4;
const BAR = BEATS_PER_BAR * TICKS_PER_QUARTER; // ticks
const EIGHTH = TICKS_PER_QUARTER / 2; // ticks

const MAJOR = [0, 2, 4, 5, 7, 9, 11];
const MINOR = [0, 2, 3, 5, 7, 8, 10];
/** Chord progressions as 0-based scale degrees, one chord per bar (I-V-vi-IV, vi-IV-I-V, ii-V-I-I...). */
const PROGRESSIONS = [
  [0, 4, 5, 3],
  [0, 5, 3, 4],
  [5, 3, 0, 4],
  [1, 4, 0, 0],
  [0, 3, 4, 0],
  [0, 5, 1, 4],
  [3, 4, 2, 5],
];

/** Options shared by the content generators. */
export interface SongOptions {
  /** Length of the piece in seconds; the End of Track falls here, notes still sounding are cut. */
  seconds: number;
  /** Seed for every musical choice: same seed, same song. */
  seed: number;
  /** General MIDI program (0-based), sent on channel 0 at tick 0. */
  program: number;
}

/** Collects notes in ticks, dropping those that start after the end and cutting those that run past it. */
class SongBuilder {
  readonly events: MidiEvent[] = [];
  readonly endTick: number;
  readonly microsecondsPerQuarter: number;

  constructor(options: SongOptions, tempoBpm: number) {
    this.microsecondsPerQuarter = Math.round(60_000_000 / tempoBpm);
    // ticks = seconds / (seconds per tick); the player uses the rounded tempo, so we do too.
    this.endTick = Math.round(((options.seconds * 1e6) / this.microsecondsPerQuarter) * TICKS_PER_QUARTER);
    this.events.push(
      { type: "tempo", tick: 0, microsecondsPerQuarter: this.microsecondsPerQuarter },
      { type: "programChange", tick: 0, channel: 0, program: options.program },
      // Dry sound: no reverb or chorus send (the renderer also switches those effects off).
      { type: "controlChange", tick: 0, channel: 0, controller: CC_REVERB_SEND, value: 0 },
      { type: "controlChange", tick: 0, channel: 0, controller: CC_CHORUS_SEND, value: 0 },
    );
  }

  note(startTick: number, durationTicks: number, note: number, velocity: number): void {
    const start = Math.round(startTick);
    if (start >= this.endTick || note < 0 || note > 127) return;
    const end = Math.min(this.endTick, Math.max(start + 1, Math.round(startTick + durationTicks)));
    const v = clampVelocity(velocity);
    this.events.push({ type: "noteOn", tick: start, channel: 0, note, velocity: v });
    this.events.push({ type: "noteOff", tick: end, channel: 0, note, velocity: 64 });
  }

  control(tick: number, controller: number, value: number): void {
    const t = Math.round(tick);
    if (t < this.endTick) this.events.push({ type: "controlChange", tick: t, channel: 0, controller, value });
  }

  song(): MidiSong {
    return { ticksPerQuarter: TICKS_PER_QUARTER, events: this.events, endTick: this.endTick };
  }
}

function clampVelocity(velocity: number): number {
  return Math.max(1, Math.min(127, Math.round(velocity)));
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

/** MIDI note of scale step `step` (any integer; 7 steps per octave) above `tonic`. */
function scaleNote(tonic: number, scale: readonly number[], step: number): number {
  const octave = Math.floor(step / scale.length);
  return tonic + 12 * octave + scale[step - octave * scale.length]!;
}

/** The triad on a scale degree as scale steps: degree, degree + 2, degree + 4. */
function triadSteps(degree: number): number[] {
  return [degree, degree + 2, degree + 4];
}

/**
 * A seeded solo-piano piece in 4/4: a melody over a chord progression (one chord per bar, a new
 * progression every 4-bar phrase), left-hand patterns that change per phrase (block chords, Alberti bass,
 * stride, arpeggios), both hands moving between registers (left-hand chords F#1-E4, melody C#3-G6), and
 * dynamics that swell or fade across each phrase (velocities about 10-127) with accents on the downbeat. The
 * sustain pedal is pressed for each bar. Tempo 70-110 bpm, key and mode from the seed.
 */
export function pianoSong(options: SongOptions): MidiSong {
  const rng = new Rng(options.seed);
  const tempoBpm = 70 + rng.int(41);
  const song = new SongBuilder(options, tempoBpm);
  const tonic = 60 + rng.int(12) - 6; // middle C +- a tritone
  const scale = rng.float() < 0.6 ? MAJOR : MINOR;
  const bars = Math.ceil(song.endTick / BAR);

  let melodyStep = 3 + rng.int(6); // scale steps above the tonic
  for (let phraseBar = 0; phraseBar < bars; phraseBar += 4) {
    const progression = pick(rng, PROGRESSIONS);
    const pattern = pick(rng, ["block", "alberti", "stride", "arpeggio"] as const);
    const leftTonic = tonic - 12 * (1 + rng.int(2)); // left hand one or two octaves below the melody's tonic
    const melodyShift = pick(rng, [-3, 0, 0, 4]); // the melody's register moves now and then (scale steps)
    const startVelocity = 30 + rng.int(86);
    const endVelocity = 30 + rng.int(86);

    for (let b = 0; b < 4 && phraseBar + b < bars; b++) {
      const barTick = (phraseBar + b) * BAR;
      const degree = progression[b]!;
      const dynamics = startVelocity + ((endVelocity - startVelocity) * b) / 3;
      const chord = triadSteps(degree).map((s) => scaleNote(leftTonic, scale, s));
      const root = chord[0]!;
      const bass = root - 12 >= 28 ? root - 12 : root; // an octave below, but not under E1 (boomy, unclear)

      // Sustain pedal: down just after the bar line, up just before the next, so chords do not smear.
      song.control(barTick + 10, CC_SUSTAIN, 127);
      song.control(barTick + BAR - 20, CC_SUSTAIN, 0);

      const left = dynamics * 0.75;
      switch (pattern) {
        case "block":
          for (const half of [0, 2 * TICKS_PER_QUARTER]) {
            for (const n of chord) {
              song.note(barTick + half, 2 * TICKS_PER_QUARTER - 20, n, left + jitter(rng, 6));
            }
          }
          song.note(barTick, BAR - 20, bass, left + 5);
          break;
        case "alberti": // low, high, middle, high in eighths
          for (let i = 0; i < 8; i++) {
            const n = chord[[0, 2, 1, 2][i % 4]!]!;
            song.note(barTick + i * EIGHTH, EIGHTH, n, left - 8 + (i % 2 === 0 ? 6 : 0) + jitter(rng, 5));
          }
          break;
        case "stride": // bass, chord, fifth, chord on the four beats
          for (let beat = 0; beat < 4; beat++) {
            const tick = barTick + beat * TICKS_PER_QUARTER;
            if (beat % 2 === 0) {
              song.note(tick, TICKS_PER_QUARTER - 30, beat === 0 ? bass : chord[2]! - 12, left + 8);
            } else {
              for (const n of chord)
                song.note(tick, TICKS_PER_QUARTER - 60, n + 12, left - 10 + jitter(rng, 5));
            }
          }
          break;
        case "arpeggio": // up and back down over two octaves in eighths
          for (let i = 0; i < 8; i++) {
            const index = [0, 1, 2, 3, 4, 3, 2, 1][i]!;
            const n = chord[index % 3]! + 12 * Math.floor(index / 3);
            song.note(barTick + i * EIGHTH, 2 * EIGHTH, n, left - 5 + jitter(rng, 6));
          }
          break;
      }

      // Melody: a rhythm that fills the bar (in eighths), a random walk on the scale that lands on a
      // chord tone on the downbeat, occasional rests.
      const rhythm = pick(rng, [
        [2, 2, 2, 2],
        [1, 1, 2, 2, 2],
        [3, 1, 2, 2],
        [4, 2, 2],
        [2, 1, 1, 4],
        [1, 1, 1, 1, 2, 2],
        [6, 2],
        [8],
      ]);
      let tick = barTick;
      rhythm.forEach((eighths, i) => {
        if (i === 0) melodyStep = nearestChordStep(melodyStep, degree);
        else melodyStep += pick(rng, [-2, -1, -1, 0, 1, 1, 2, 3, -3]);
        melodyStep = Math.max(0, Math.min(11, melodyStep)); // a range of about an octave and a half
        const accent = i === 0 ? 10 : 0;
        if (i === 0 || rng.float() > 0.1) {
          const n = scaleNote(tonic, scale, melodyStep + melodyShift);
          song.note(tick, eighths * EIGHTH * 0.95, n, dynamics + accent + jitter(rng, 8));
        }
        tick += eighths * EIGHTH;
      });
    }
  }
  return song.song();
}

/** The scale step closest to `step` that is a chord tone of the triad on `degree` (7-step scale). */
function nearestChordStep(step: number, degree: number): number {
  for (let distance = 0; distance < 4; distance++) {
    for (const candidate of [step - distance, step + distance]) {
      const rel = (((candidate - degree) % 7) + 7) % 7;
      if (rel === 0 || rel === 2 || rel === 4) return candidate;
    }
  }
  return step;
}

function jitter(rng: Rng, amount: number): number {
  return rng.uniform(-amount, amount);
}

/** Strum patterns over one bar of eighths: D = down stroke, U = up stroke, . = let ring. */
const STRUMS = ["D.DU.UDU", "D.D.D.D.", "D.DUDUDU", "D..UD.DU", "DUDUDUDU", "D...D.DU"];
const PENTATONIC_MAJOR = [0, 2, 4, 7, 9];
const PENTATONIC_MINOR = [0, 3, 5, 7, 10];

/**
 * A seeded guitar part in 4/4 that alternates 2- or 4-bar sections of strummed chords and single-note
 * lines. Chords are barre-chord voicings (E shape on the low E string, A shape on the A string: the notes a
 * real guitar can sound), strummed down from the low string or up over the top strings, 12 ms between
 * strings, each stroke ringing until the next. Lines walk a pentatonic scale in eighths and sixteenths
 * over two octaves up from the tonic (E3-D4). Keys E, A, D, G, C (major or minor), tempo 80-130 bpm,
 * dynamics per section.
 */
export function guitarSong(options: SongOptions): MidiSong {
  const rng = new Rng(options.seed);
  const tempoBpm = 80 + rng.int(51);
  const song = new SongBuilder(options, tempoBpm);
  const tonicClass = pick(rng, [4, 9, 2, 7, 0]); // E A D G C
  const minor = rng.float() < 0.5;
  const scale = minor ? MINOR : MAJOR;
  const pentatonic = minor ? PENTATONIC_MINOR : PENTATONIC_MAJOR;
  const bars = Math.ceil(song.endTick / BAR);
  const stringGapTicks = (0.012 * 1e6 * TICKS_PER_QUARTER) / song.microsecondsPerQuarter; // 12 ms

  let strumming = rng.float() < 0.6;
  let lineStep = 5 + rng.int(5);
  for (let sectionBar = 0; sectionBar < bars; ) {
    const length = pick(rng, [2, 4, 4]);
    const progression = pick(rng, PROGRESSIONS);
    const dynamics = 60 + rng.int(50);
    for (let b = 0; b < length && sectionBar + b < bars; b++) {
      const barTick = (sectionBar + b) * BAR;
      const degree = progression[b % progression.length]!;
      const rootClass = (tonicClass + scale[degree]!) % 12;
      const third = (scale[(degree + 2) % 7]! - scale[degree]! + 12) % 12; // 3 or 4 semitones
      if (strumming) {
        const voicing = barreChord(rootClass, third);
        const pattern = pick(rng, STRUMS);
        const strokes = [...pattern].flatMap((c, i) =>
          c === "." ? [] : [{ tick: barTick + i * EIGHTH, down: c === "D" }],
        );
        strokes.forEach((stroke, i) => {
          const next = strokes[i + 1]?.tick ?? barTick + BAR;
          // Down strokes sweep every string low to high; up strokes catch the top four, high to low.
          const strings = stroke.down ? voicing : voicing.slice(-4).reverse();
          const accent = stroke.tick === barTick ? 12 : stroke.down ? 0 : -18;
          strings.forEach((n, s) => {
            const start = stroke.tick + s * stringGapTicks;
            song.note(start, next - start - 5, n, dynamics + accent - s * 2 + jitter(rng, 6));
          });
        });
      } else {
        const rhythm = pick(rng, [
          [2, 2, 2, 2, 2, 2, 2, 2],
          [1, 1, 1, 1, 2, 2, 4, 4],
          [2, 1, 1, 2, 2, 4, 4],
          [4, 2, 2, 4, 4],
          [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 4],
        ]); // in sixteenths, 16 per bar
        let tick = barTick;
        for (const sixteenths of rhythm) {
          lineStep = Math.max(0, Math.min(10, lineStep + pick(rng, [-2, -1, -1, 1, 1, 2, 0])));
          const octave = Math.floor(lineStep / 5);
          // Tonic in octave 3 (E3 = 52 ... D4 = 62); steps 0..10 span two octaves up from it (at most D6 = 86,
          // the 22nd fret of the top string).
          const n = 48 + tonicClass + (tonicClass < 4 ? 12 : 0) + 12 * octave + pentatonic[lineStep % 5]!;
          const duration = (sixteenths * TICKS_PER_QUARTER) / 4;
          song.note(tick, duration * 0.9, n, dynamics + (tick === barTick ? 10 : 0) + jitter(rng, 10));
          tick += duration;
        }
      }
    }
    sectionBar += length;
    strumming = !strumming;
  }
  return song.song();
}

/**
 * Barre-chord voicing, low string first: E shape (root on the low E string, E2-G#2 = MIDI 40-44) is root,
 * fifth, octave, third, fifth, root; A shape (root on the A string, A2-D#3 = 45-51) is root, fifth,
 * octave, third, fifth. `third` is 3 (minor) or 4 (major) semitones.
 */
function barreChord(rootClass: number, third: number): number[] {
  const eRoot = 40 + ((rootClass - 4 + 12) % 12); // 40 (E2) .. 51 (D#3)
  if (eRoot <= 44) return [eRoot, eRoot + 7, eRoot + 12, eRoot + 12 + third, eRoot + 19, eRoot + 24];
  const aRoot = 45 + ((rootClass - 9 + 12) % 12); // 45 (A2) .. 56 (G#3)
  return [aRoot, aRoot + 7, aRoot + 12, aRoot + 12 + third, aRoot + 19];
}
