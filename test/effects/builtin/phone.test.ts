import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  alawToLinear,
  linearToAlaw,
  linearToMulaw,
  mulawToLinear,
} from "../../../src/effects/builtin/phone.ts";
import { noise } from "../../helpers/signals.ts";
import { db, RATES, renderMono, sine, spectrum, toneAmplitude } from "./helpers.ts";

/**
 * An independent G.711 implementation to agree with: Sun Microsystems' public-domain g711.c (segment
 * search over the decision levels instead of the G.191 shift loop). Sun's mu-law encoder treats negative
 * inputs as -(x >> 2) rather than G.191's ~x >> 2, so mu-law is compared on x >= 0; A-law on all inputs.
 */
const SUN_MULAW_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const SUN_ALAW_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const segmentOf = (value: number, ends: number[]) => {
  const index = ends.findIndex((end) => value <= end);
  return index < 0 ? ends.length : index;
};
function sunLinearToMulaw(pcm: number): number {
  let value = pcm >> 2;
  const mask = value < 0 ? 0x7f : 0xff;
  value = Math.min(Math.abs(value), 8159) + (0x84 >> 2);
  const seg = segmentOf(value, SUN_MULAW_END);
  return seg >= 8 ? 0x7f ^ mask : ((seg << 4) | ((value >> (seg + 1)) & 0xf)) ^ mask;
}
function sunLinearToAlaw(pcm: number): number {
  let value = pcm >> 3;
  const mask = value >= 0 ? 0xd5 : 0x55;
  if (value < 0) value = -value - 1;
  const seg = segmentOf(value, SUN_ALAW_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((seg < 2 ? value >> 1 : value >> seg) & 0xf)) ^ mask;
}

describe("G.711", () => {
  test("the G.191 port agrees with Sun's g711.c for every 16-bit input", () => {
    for (let x = -32768; x <= 32767; x++) {
      if (x >= 0) assert.equal(linearToMulaw(x), sunLinearToMulaw(x));
      assert.equal(linearToAlaw(x), sunLinearToAlaw(x));
    }
  });

  test("mu-law reference values (G.711 table 2a, in 16-bit units: 14-bit values x 4)", () => {
    // Decoder: the largest codes give +-8031 (x4 = 32124), 0xff and 0x7f are +0 and -0, segment 0 steps by 2 (x4 = 8).
    const decoded: [number, number][] = [
      [0x80, 32124],
      [0x00, -32124],
      [0xff, 0],
      [0x7f, 0],
      [0xfe, 8],
      [0x7e, -8],
      [0xf0, 120],
      [0xef, 132], // first code of segment 1: step 16
      [0x8f, 16764], // ~0x8f = 0x70: exponent 7, mantissa 0: (128 << 7) + 1024 / 2 - 132
    ];
    for (const [code, value] of decoded) assert.equal(mulawToLinear(code), value, `0x${code.toString(16)}`);
    const encoded: [number, number][] = [
      [0, 0xff],
      [3, 0xff], // G.711's first decision value is 1 in 14-bit units: 4 here
      [4, 0xfe],
      [-1, 0x7f], // negative zero
      [-4, 0x7f],
      [-5, 0x7e],
      [32767, 0x80],
      [-32768, 0x00],
      [8, 0xfe],
      [-8, 0x7e],
      [120, 0xf0],
    ];
    for (const [value, code] of encoded) assert.equal(linearToMulaw(value), code, `${value}`);
  });

  test("A-law reference values (G.711 table 1a, in 16-bit units: 13-bit values x 8)", () => {
    const decoded: [number, number][] = [
      [0xd5, 8],
      [0x55, -8],
      [0xaa, 32256],
      [0x2a, -32256],
      [0xd4, 24],
      [0xc5, 264], // segment 1 starts at 256 (step 16)
    ];
    for (const [code, value] of decoded) assert.equal(alawToLinear(code), value, `0x${code.toString(16)}`);
    const encoded: [number, number][] = [
      [0, 0xd5],
      [-1, 0x55],
      [15, 0xd5],
      [16, 0xd4],
      [-16, 0x55],
      [-17, 0x54],
      [32767, 0xaa],
      [-32768, 0x2a],
    ];
    for (const [value, code] of encoded) assert.equal(linearToAlaw(value), code, `${value}`);
  });

  test("every code survives decode -> encode (except mu-law's negative zero), decoding is monotonic", () => {
    for (let code = 0; code < 256; code++) {
      if (code !== 0x7f) assert.equal(linearToMulaw(mulawToLinear(code)), code, `mu 0x${code.toString(16)}`);
      assert.equal(linearToAlaw(alawToLinear(code)), code, `A 0x${code.toString(16)}`);
    }
    let [previousMu, previousA] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (let x = -32768; x <= 32767; x++) {
      const mu = mulawToLinear(linearToMulaw(x));
      const a = alawToLinear(linearToAlaw(x));
      assert.ok(mu >= previousMu && a >= previousA);
      [previousMu, previousA] = [mu, a];
      // Error at most half a step of the segment (mu-law step 8 << segment; A-law 16 << (segment - 1)).
      if (Math.abs(x) < 32000) {
        const muStep = 8 << ((~linearToMulaw(x) & 0xff & 0x70) >> 4);
        assert.ok(Math.abs(mu - x) <= muStep / 2 + 4, `mu-law ${x} -> ${mu}`);
        const segment = ((linearToAlaw(x) ^ 0x55) & 0x70) >> 4;
        const aStep = 16 << Math.max(0, segment - 1);
        assert.ok(Math.abs(a - x) <= aStep / 2 + 8, `A-law ${x} -> ${a}`);
      }
    }
  });
});

describe("phone", () => {
  test("band: 100 Hz and 6 kHz removed, 1 kHz kept, the same in Hz at every rate", async () => {
    for (const rate of RATES) {
      const frames = Math.round(0.3 * rate);
      const measure = async (hz: number) => {
        const out = await renderMono("phone", { codec: "none" }, sine(hz, frames, rate), rate);
        return db(
          toneAmplitude(out, hz, rate, Math.round(0.1 * rate), frames - Math.round(0.02 * rate)) / 0.5,
        );
      };
      assert.ok(Math.abs(await measure(1000)) < 0.5, `${rate}: 1 kHz`);
      assert.ok((await measure(100)) < -35, `${rate}: 100 Hz`);
      assert.ok((await measure(6000)) < -80, `${rate}: 6 kHz`);
    }
  });

  test("white noise: almost no energy below 300 Hz or above 3.4 kHz (power spectrum), mu-law and A-law", async () => {
    for (const rate of RATES) {
      for (const codec of ["none", "mulaw", "alaw"]) {
        const out = await renderMono("phone", { codec }, noise(rate, 4, 0.2), rate);
        const s = spectrum(out, 4096, rate);
        const band = s.where((hz) => hz >= 300 && hz <= 3400);
        const below = 10 * Math.log10(s.where((hz) => hz < 150) / band);
        const above = 10 * Math.log10(s.where((hz) => hz > 4200) / band);
        assert.ok(below < -30, `${rate} ${codec}: below ${below} dB`);
        assert.ok(above < (codec === "none" ? -80 : -60), `${rate} ${codec}: above ${above} dB`);
      }
    }
  });

  test("mu-law: the decoded signal's error is the codec's (about 38 dB SNR for a loud tone)", async () => {
    const rate = 8000;
    const x = sine(1000, 8000, rate, 0.5);
    const clean = await renderMono("phone", { codec: "none" }, x, rate);
    const coded = await renderMono("phone", { codec: "mulaw" }, x, rate);
    const error = coded.map((v, n) => v - clean[n]!);
    const snr = db(
      toneAmplitude(clean, 1000, rate, 800, 7200) /
        Math.sqrt(2) /
        Math.sqrt(error.reduce((s, v) => s + v * v, 0) / error.length),
    );
    assert.ok(snr > 33 && snr < 43, `SNR ${snr} dB`);
  });

  test("lowHz must be below highHz, highHz inside the 8 kHz channel", async () => {
    const x = sine(1000, 800, 48000);
    await assert.rejects(
      renderMono("phone", { lowHz: 3000, highHz: 2000 }, x, 48000),
      /lowHz: lowHz must be below highHz/,
    );
    await assert.rejects(
      renderMono("phone", { highHz: 4000 }, x, 48000),
      /highHz: expected number to be <=3900/,
    );
    await assert.rejects(renderMono("phone", { highHz: 3400 }, x, 6000), /highHz: must be below Nyquist/);
  });
});
