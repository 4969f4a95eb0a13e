import assert from "node:assert/strict";
import { test } from "node:test";
import { OptionError } from "../../src/core/errors.ts";
import {
  encodeVarLen,
  guitarSong,
  type MidiEvent,
  type MidiSong,
  pianoSong,
  writeMidiFile,
} from "../../src/node/material/midi.ts";

/**
 * An independent Standard MIDI File reader for the events the writer produces (no running status, the
 * tempo and End of Track meta events), written from the spec so the test checks the bytes, not the writer.
 */
function parseMidi(bytes: Uint8Array): {
  format: number;
  tracks: number;
  division: number;
  events: (MidiEvent | { type: "endOfTrack"; tick: number })[];
} {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  assert.equal(text(0), "MThd");
  assert.equal(view.getUint32(4), 6, "header length");
  assert.equal(text(14), "MTrk");
  const trackLength = view.getUint32(18);
  assert.equal(22 + trackLength, bytes.length, "track length covers exactly the rest of the file");

  let at = 22;
  const varLen = (): number => {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const byte = bytes[at++]!;
      value = (value << 7) | (byte & 0x7f);
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error("variable-length value longer than 4 bytes");
  };
  const events: (MidiEvent | { type: "endOfTrack"; tick: number })[] = [];
  let tick = 0;
  while (at < bytes.length) {
    tick += varLen();
    const status = bytes[at++]!;
    const channel = status & 0x0f;
    if (status === 0xff) {
      const type = bytes[at++]!;
      const length = varLen();
      const data = bytes.subarray(at, at + length);
      at += length;
      if (type === 0x51) {
        events.push({
          type: "tempo",
          tick,
          microsecondsPerQuarter: (data[0]! << 16) | (data[1]! << 8) | data[2]!,
        });
      } else if (type === 0x2f) {
        assert.equal(length, 0);
        events.push({ type: "endOfTrack", tick });
      } else throw new Error(`unexpected meta event ${type}`);
    } else if ((status & 0xf0) === 0x90) {
      events.push({ type: "noteOn", tick, channel, note: bytes[at]!, velocity: bytes[at + 1]! });
      at += 2;
    } else if ((status & 0xf0) === 0x80) {
      events.push({ type: "noteOff", tick, channel, note: bytes[at]!, velocity: bytes[at + 1]! });
      at += 2;
    } else if ((status & 0xf0) === 0xb0) {
      events.push({ type: "controlChange", tick, channel, controller: bytes[at]!, value: bytes[at + 1]! });
      at += 2;
    } else if ((status & 0xf0) === 0xc0) {
      events.push({ type: "programChange", tick, channel, program: bytes[at++]! });
    } else throw new Error(`unexpected status byte 0x${status.toString(16)} at ${at - 1}`);
  }
  assert.equal(events.at(-1)?.type, "endOfTrack", "the track ends with End of Track");
  return { format: view.getUint16(8), tracks: view.getUint16(10), division: view.getUint16(12), events };
}

test("variable-length quantities at the byte boundaries (SMF spec examples)", () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [0x40, [0x40]],
    [0x7f, [0x7f]],
    [0x80, [0x81, 0x00]],
    [0x2000, [0xc0, 0x00]],
    [0x3fff, [0xff, 0x7f]],
    [0x4000, [0x81, 0x80, 0x00]],
    [0x1fffff, [0xff, 0xff, 0x7f]],
    [0x200000, [0x81, 0x80, 0x80, 0x00]],
    [0x0fffffff, [0xff, 0xff, 0xff, 0x7f]],
  ];
  for (const [value, bytes] of cases) assert.deepEqual(encodeVarLen(value), bytes, `0x${value.toString(16)}`);
  for (const bad of [-1, 0x10000000, 1.5, Number.NaN]) assert.throws(() => encodeVarLen(bad), OptionError);
});

test("writeMidiFile: header, track length, delta times across varlen edges, events read back", () => {
  // Deltas between successive events: 0x7f, 0x80, 0x3fff, 0x4000, 0.
  const ticks = [0, 0x7f, 0x7f + 0x80, 0x7f + 0x80 + 0x3fff, 0x7f + 0x80 + 0x3fff + 0x4000];
  const events: MidiEvent[] = [
    { type: "noteOff", tick: ticks[4]!, channel: 3, note: 64, velocity: 0 },
    { type: "noteOn", tick: ticks[1]!, channel: 3, note: 60, velocity: 100 },
    { type: "noteOff", tick: ticks[2]!, channel: 3, note: 60, velocity: 64 },
    { type: "noteOn", tick: ticks[3]!, channel: 3, note: 64, velocity: 1 },
    { type: "controlChange", tick: ticks[3]!, channel: 3, controller: 64, value: 127 },
    { type: "programChange", tick: 0, channel: 3, program: 25 },
    { type: "tempo", tick: 0, microsecondsPerQuarter: 0x07a120 },
  ];
  const song: MidiSong = { ticksPerQuarter: 96, events, endTick: ticks[4]! + 0x80 };
  const bytes = writeMidiFile(song);
  const parsed = parseMidi(bytes);
  assert.equal(parsed.format, 0);
  assert.equal(parsed.tracks, 1);
  assert.equal(parsed.division, 96);
  assert.deepEqual(parsed.events, [
    { type: "tempo", tick: 0, microsecondsPerQuarter: 500000 },
    { type: "programChange", tick: 0, channel: 3, program: 25 },
    { type: "noteOn", tick: 0x7f, channel: 3, note: 60, velocity: 100 },
    { type: "noteOff", tick: 0xff, channel: 3, note: 60, velocity: 64 },
    { type: "controlChange", tick: ticks[3]!, channel: 3, controller: 64, value: 127 },
    { type: "noteOn", tick: ticks[3]!, channel: 3, note: 64, velocity: 1 },
    { type: "noteOff", tick: ticks[4]!, channel: 3, note: 64, velocity: 0 },
    { type: "endOfTrack", tick: ticks[4]! + 0x80 },
  ]);
  // The delta bytes themselves: tempo event at delta 0, then the 0x7f / 0x80 / 0x3fff / 0x4000 encodings.
  assert.deepEqual([...bytes.subarray(22, 23)], [0x00]);
  const hex = Buffer.from(bytes).toString("hex");
  assert.ok(hex.includes("7f933c64"), "delta 0x7f then note on ch 3");
  assert.ok(hex.includes("8100833c40"), "delta 0x80 then note off");
  assert.ok(hex.includes("ff7fb3407f"), "delta 0x3fff then control change");
  assert.ok(hex.includes("818000834000"), "delta 0x4000 then note off");
});

test("writeMidiFile puts note off before note on at the same tick, and keeps insertion order otherwise", () => {
  const bytes = writeMidiFile({
    ticksPerQuarter: 480,
    events: [
      { type: "noteOn", tick: 0, channel: 0, note: 60, velocity: 90 },
      { type: "noteOn", tick: 480, channel: 0, note: 60, velocity: 90 }, // repeated note...
      { type: "noteOff", tick: 480, channel: 0, note: 60, velocity: 0 }, // ...its previous note-off comes first
      { type: "noteOn", tick: 480, channel: 0, note: 67, velocity: 80 },
      { type: "noteOn", tick: 480, channel: 0, note: 64, velocity: 80 },
    ],
  });
  const at480 = parseMidi(bytes).events.filter((e) => e.tick === 480);
  assert.deepEqual(
    at480.map((e) => `${e.type}${"note" in e ? e.note : ""}`),
    ["noteOff60", "noteOn60", "noteOn67", "noteOn64", "endOfTrack"],
  );
});

test("writeMidiFile rejects out-of-range fields with an error naming the event", () => {
  const bad = (event: MidiEvent, message: RegExp): void =>
    assert.throws(
      () => writeMidiFile({ ticksPerQuarter: 480, events: [event] }),
      (error: unknown) =>
        error instanceof OptionError && error.code === "midi/invalid" && message.test(error.message),
    );
  bad(
    { type: "noteOn", tick: 0, channel: 16, note: 60, velocity: 90 },
    /event 0 \(noteOn\): channel must be .* 0\.\.15, got 16/,
  );
  bad({ type: "noteOn", tick: 0, channel: 0, note: 128, velocity: 90 }, /note/);
  bad(
    { type: "noteOn", tick: 0, channel: 0, note: 60, velocity: 0 },
    /velocity must be an integer in 1\.\.127/,
  );
  bad({ type: "noteOff", tick: -1, channel: 0, note: 60, velocity: 0 }, /tick/);
  bad({ type: "tempo", tick: 0, microsecondsPerQuarter: 0x1000000 }, /microsecondsPerQuarter/);
  assert.throws(() => writeMidiFile({ ticksPerQuarter: 0, events: [] }), /ticksPerQuarter/);
  assert.throws(
    () =>
      writeMidiFile({
        ticksPerQuarter: 96,
        events: [{ type: "programChange", tick: 100, channel: 0, program: 0 }],
        endTick: 50,
      }),
    /endTick 50 is before the last event at tick 100/,
  );
});

/** Notes as [startTick, endTick, note, velocity], pairing each note-on with the next note-off of that pitch. */
function notesOf(song: MidiSong): [number, number, number, number][] {
  const parsed = parseMidi(writeMidiFile(song)).events;
  const open = new Map<number, { tick: number; velocity: number }[]>();
  const notes: [number, number, number, number][] = [];
  for (const event of parsed) {
    if (event.type === "noteOn") {
      open.set(event.note, [...(open.get(event.note) ?? []), { tick: event.tick, velocity: event.velocity }]);
    } else if (event.type === "noteOff") {
      const started = open.get(event.note)?.shift();
      assert.ok(started, `note-off for ${event.note} at ${event.tick} without a note-on`);
      notes.push([started.tick, event.tick, event.note, started.velocity]);
    }
  }
  for (const [note, left] of open) assert.equal(left.length, 0, `note ${note} never released`);
  return notes;
}

/** Length of the song in seconds from its tempo and End of Track. */
function songSeconds(song: MidiSong): number {
  const tempo = song.events.find((e) => e.type === "tempo");
  assert.ok(tempo?.type === "tempo");
  return (song.endTick! * tempo.microsecondsPerQuarter) / song.ticksPerQuarter / 1e6;
}

test("pianoSong: seeded, the requested length, a melody over chords across registers and dynamics", () => {
  const song = pianoSong({ seconds: 30, seed: 3, program: 0 });
  assert.deepEqual(
    writeMidiFile(pianoSong({ seconds: 30, seed: 3, program: 0 })),
    writeMidiFile(song),
    "same seed, same bytes",
  );
  assert.notDeepEqual(writeMidiFile(pianoSong({ seconds: 30, seed: 4, program: 0 })), writeMidiFile(song));
  assert.ok(Math.abs(songSeconds(song) - 30) < 0.01, `${songSeconds(song)} s`);
  assert.ok(song.events.some((e) => e.type === "programChange" && e.program === 0));

  const notes = notesOf(song);
  assert.ok(notes.every(([start, end]) => start < end && end <= song.endTick!));
  const pitches = notes.map((n) => n[2]);
  const velocities = notes.map((n) => n[3]);
  assert.ok(
    Math.max(...pitches) - Math.min(...pitches) >= 36,
    `range ${Math.min(...pitches)}..${Math.max(...pitches)}: 3+ octaves`,
  );
  assert.ok(
    Math.max(...velocities) - Math.min(...velocities) >= 40,
    `velocities ${Math.min(...velocities)}..${Math.max(...velocities)}`,
  );
  // Chords: three or more notes starting together; a melody: notes above middle C between them.
  const starts = new Map<number, number>();
  for (const [start] of notes) starts.set(start, (starts.get(start) ?? 0) + 1);
  assert.ok(
    [...starts.values()].some((count) => count >= 3),
    "block chords",
  );
  assert.ok(pitches.filter((p) => p >= 60).length >= 20, "a melody above middle C");
  assert.ok(notes.length > 100, `${notes.length} notes in 30 s`);
});

test("guitarSong: seeded, strummed chords (staggered string onsets) and single-note lines", () => {
  const song = guitarSong({ seconds: 30, seed: 2, program: 25 });
  assert.deepEqual(writeMidiFile(guitarSong({ seconds: 30, seed: 2, program: 25 })), writeMidiFile(song));
  assert.notDeepEqual(writeMidiFile(guitarSong({ seconds: 30, seed: 5, program: 25 })), writeMidiFile(song));
  assert.ok(Math.abs(songSeconds(song) - 30) < 0.01);

  const notes = notesOf(song).sort((a, b) => a[0] - b[0]);
  // Guitar range: E2 (40) up to D6 (86, the 22nd fret of the top string).
  assert.ok(
    notes.every(([, , note]) => note >= 40 && note <= 86),
    "within a guitar's range",
  );
  const tempo = song.events.find((e) => e.type === "tempo");
  assert.ok(tempo?.type === "tempo");
  const ticksPerMs = song.ticksPerQuarter / (tempo.microsecondsPerQuarter / 1000);
  // A strum: 5-6 notes starting within 100 ms of each other, each a little after the previous.
  let strums = 0;
  let singles = 0;
  for (let i = 0; i < notes.length; i++) {
    const group = notes.filter(([start]) => start >= notes[i]![0] && start < notes[i]![0] + 100 * ticksPerMs);
    if (group.length >= 5 && new Set(group.map((n) => n[0])).size >= 5) strums++;
    if (group.length === 1) singles++;
  }
  assert.ok(strums >= 10, `${strums} strums`);
  assert.ok(singles >= 20, `${singles} single notes`);
});
