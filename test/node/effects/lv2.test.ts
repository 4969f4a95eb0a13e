import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeAudio } from "../../../src/audio/audio.ts";
import { DeepspError, OptionError, ToolError } from "../../../src/core/errors.ts";
import type { AnyEffect } from "../../../src/effects/effect.ts";
import {
  BIG_MUFF_URI,
  DS1_URI,
  FUZZ_FACE_URI,
  listLv2Plugins,
  lv2BigMuff,
  lv2Ds1,
  lv2FuzzFace,
  lv2Plugin,
  lv2PluginUris,
  lv2Ts9,
  lv2UnavailableReason,
  parseControls,
  parseLv2Info,
  phatDelay,
  renderLv2,
  TS9_URI,
} from "../../../src/node/effects/lv2.ts";
import {
  assertSameAudio,
  assertShapeOf,
  db,
  harmonicsDb,
  material,
  mono,
  noise,
  RATES,
  render,
  rmsOf,
  sine,
} from "./helpers.ts";

/**
 * The LV2 engine against the real lv2apply (Debian lilv-utils) and guitarix-lv2 pedals. Tests that need a
 * program or plugin skip with the install line when it is missing; the latency and unsupported-plugin tests
 * use swh-lv2 (CI installs lilv-utils, guitarix-lv2 and swh-lv2).
 */

const toolsReason = await lv2UnavailableReason();
const installed = toolsReason === undefined ? new Set(await lv2PluginUris()) : new Set<string>();
const needs = (uri: string, pkg: string): string | false => {
  if (toolsReason) return `lv2: ${toolsReason}`;
  return installed.has(uri) ? false : `LV2 plugin <${uri}> is not installed (apt-get install -y ${pkg})`;
};

/** Trimmed from `lv2info` of guitarix's Gxdetune, with the kinds of lines the parser meets. */
const LV2INFO_FIXTURE = `http://example.org/plugins/detune

\tName:              Gxdetune
\tClass:             Pitch Plugin
\tAuthor:            Guitarix team
\tHas latency:       yes, reported by port 3
\tBundle:            file:///usr/lib/lv2/gx_detune.lv2/
\tUIs:
\t\thttp://example.org/plugins/detune#gui
\t\t\tClass:  http://lv2plug.in/ns/extensions/ui#X11UI
\t\t\tBinary: file:///usr/lib/lv2/gx_detune.lv2/gx_detune_gui.so
\tData URIs:         file:///usr/lib/lv2/gx_detune.lv2/gx_detune.ttl
\t                   file:///usr/lib/lv2/gx_detune.lv2/manifest.ttl
\tRequired Features: http://lv2plug.in/ns/ext/buf-size#boundedBlockLength
\t                   http://lv2plug.in/ns/ext/urid#map
\tOptional Features: http://lv2plug.in/ns/lv2core#hardRTCapable
\tPresets: 
\t         Default

\tPort 0:
\t\tType:        http://lv2plug.in/ns/lv2core#AudioPort
\t\t             http://lv2plug.in/ns/lv2core#OutputPort
\t\tSymbol:      out
\t\tName:        Out

\tPort 1:
\t\tType:        http://lv2plug.in/ns/lv2core#AudioPort
\t\t             http://lv2plug.in/ns/lv2core#InputPort
\t\tSymbol:      in
\t\tName:        In

\tPort 2:
\t\tType:        http://lv2plug.in/ns/lv2core#ControlPort
\t\t             http://lv2plug.in/ns/lv2core#InputPort
\t\tScale Points:
\t\t\t2 = "realtime"
\t\t\t0 = "highquality"

\t\tSymbol:      LATENCY
\t\tName:        LATENCY
\t\tMinimum:     0.000000
\t\tMaximum:     2.000000
\t\tDefault:     0.000000
\t\tProperties:  http://lv2plug.in/ns/lv2core#enumeration
\t\t             http://lv2plug.in/ns/lv2core#integer

\tPort 3:
\t\tType:        http://lv2plug.in/ns/lv2core#ControlPort
\t\t             http://lv2plug.in/ns/lv2core#OutputPort
\t\tSymbol:      latency
\t\tName:        latency (samples)
\t\tDesignation: http://lv2plug.in/ns/lv2core#latency
\t\tMinimum:     0.000000
\t\tMaximum:     4096.000000

\tPort 4:
\t\tType:        http://lv2plug.in/ns/ext/atom#AtomPort
\t\t             http://lv2plug.in/ns/lv2core#InputPort
\t\tSymbol:      control
\t\tName:        Control

\tPort 5:
\t\tType:        http://lv2plug.in/ns/lv2core#ControlPort
\t\t             http://lv2plug.in/ns/lv2core#InputPort
\t\tSymbol:      BYPASS
\t\tName:        BYPASS
\t\tDesignation: http://lv2plug.in/ns/lv2core#enabled
\t\tMinimum:     0.000000
\t\tMaximum:     1.000000
\t\tDefault:     1.000000
\t\tProperties:  http://lv2plug.in/ns/lv2core#toggled

`;

test("parseLv2Info reads the header, ports, ranges, scale points, latency port and what lv2apply cannot host", () => {
  const info = parseLv2Info(LV2INFO_FIXTURE);
  assert.equal(info.uri, "http://example.org/plugins/detune");
  assert.equal(info.name, "Gxdetune");
  assert.equal(info.className, "Pitch Plugin");
  assert.equal(info.audioInputs, 1);
  assert.equal(info.audioOutputs, 1);
  assert.equal(info.latencyPort, "latency");
  assert.deepEqual(info.requiredFeatures, [
    "http://lv2plug.in/ns/ext/buf-size#boundedBlockLength",
    "http://lv2plug.in/ns/ext/urid#map",
  ]);
  assert.deepEqual(
    info.controls.map((c) => c.symbol),
    ["LATENCY", "BYPASS"],
  );
  assert.deepEqual(info.controls[0], {
    symbol: "LATENCY",
    name: "LATENCY",
    minimum: 0,
    maximum: 2,
    default: 0,
    properties: ["enumeration", "integer"],
    scalePoints: [
      { value: 2, label: "realtime" },
      { value: 0, label: "highquality" },
    ],
  });
  assert.equal(info.ports.length, 6);
  assert.equal(info.ports[3]!.designation, "latency");
  assert.equal(info.ports[3]!.direction, "output");
  assert.equal(info.ports[4]!.type, "http://lv2plug.in/ns/ext/atom#AtomPort");
  assert.equal(info.ports[5]!.designation, "enabled");
  assert.match(info.unsupportedReason ?? "", /cannot connect its port\(s\) control \(AtomPort\)/);
});

test("parseControls reads symbol=value lists and rejects malformed ones", () => {
  assert.deepEqual(parseControls("drive=0.5; level=-3;tone=1e2"), { drive: 0.5, level: -3, tone: 100 });
  assert.deepEqual(parseControls(""), {});
  assert.throws(() => parseControls("drive"), OptionError);
  assert.throws(() => parseControls("drive=loud"), OptionError);
  assert.throws(() => parseControls("drive=1;drive=2"), /set twice/);
});

test("phatDelay finds a pure delay and reports a confident peak", () => {
  const x = noise(20000, 5, 0.1);
  const y = new Float32Array(20000);
  y.set(x.subarray(0, 20000 - 777), 777);
  const estimate = phatDelay(x, y, 5000);
  assert.equal(estimate.delaySamples, 777);
  assert.ok(estimate.confidence > 0.5);
});

interface PedalCase {
  effect: AnyEffect;
  uri: string;
  /** The knob that sets the gain into the clipper. */
  gain: string;
}

const pedals: PedalCase[] = [
  { effect: lv2Ts9, uri: TS9_URI, gain: "drive" },
  { effect: lv2Ds1, uri: DS1_URI, gain: "drive" },
  { effect: lv2BigMuff, uri: BIG_MUFF_URI, gain: "sustain" },
  { effect: lv2FuzzFace, uri: FUZZ_FACE_URI, gain: "fuzz" },
];

for (const { effect, uri, gain } of pedals) {
  describe(effect.name, { skip: needs(uri, "guitarix-lv2") }, () => {
    test("is available and renders bit-identically twice, with the input's shape and no latency", async () => {
      assert.equal(await effect.unavailableReason!(), undefined);
      const input = mono(48000, material(48000));
      const first = await render(effect, input);
      const second = await render(effect, input);
      assertShapeOf(first.audio, input, effect.name);
      assertSameAudio(first.audio, second.audio, `${effect.name} rendered twice`);
      assert.equal(first.latencySamples, 0);
    });

    test("adds harmonics to a sine at 44.1, 48 and 96 kHz, by similar amounts", async () => {
      const amounts: number[] = [];
      for (const rate of RATES) {
        const input = mono(rate, sine(rate, 200, 0.5, 0.3));
        const { audio } = await render(effect, input);
        assertShapeOf(audio, input, `${effect.name} at ${rate} Hz`);
        const thd = harmonicsDb(audio.channels[0]!, rate, 200, 0.2 * rate, 0.25 * rate);
        assert.ok(
          thd > -30,
          `${effect.name} at ${rate} Hz: harmonics ${thd.toFixed(1)} dB below the fundamental`,
        );
        amounts.push(thd);
      }
      const spread = Math.max(...amounts) - Math.min(...amounts);
      assert.ok(
        spread < 3,
        `${effect.name}: harmonic content varies by ${spread.toFixed(1)} dB across rates`,
      );
    });

    test(`its ${gain} knob raises the level and the distortion monotonically`, async () => {
      const rate = 48000;
      // A -10 dBFS sine, about a guitar's level into a pedal.
      const input = mono(rate, sine(rate, 200, 0.5, 0.3));
      const levels: number[] = [];
      const distortion: number[] = [];
      for (const value of [0, 0.25, 0.5, 0.75, 1]) {
        const y = (await render(effect, input, { [gain]: value })).audio.channels[0]!;
        levels.push(db(rmsOf(y, 0.2 * rate)));
        distortion.push(harmonicsDb(y, rate, 200, 0.2 * rate, 0.25 * rate));
      }
      for (let i = 1; i < levels.length; i++) {
        assert.ok(levels[i]! > levels[i - 1]!, `${gain}: level ${levels.map((l) => l.toFixed(1))} dB rises`);
        assert.ok(
          distortion[i]! > distortion[i - 1]!,
          `${gain}: harmonics ${distortion.map((d) => d.toFixed(1))} dB rise`,
        );
      }
    });

    test("renders each channel of a stereo input like a mono one", async () => {
      const rate = 48000;
      const left = material(rate, 0.3);
      const right = sine(rate, 330, 0.3, 0.2);
      const { audio } = await render(effect, makeAudio(rate, [left, right]));
      assertSameAudio(
        makeAudio(rate, [audio.channels[0]!]),
        (await render(effect, mono(rate, left))).audio,
        "left",
      );
      assertSameAudio(
        makeAudio(rate, [audio.channels[1]!]),
        (await render(effect, mono(rate, right))).audio,
        "right",
      );
    });
  });
}

describe("lv2.plugin", { skip: needs(TS9_URI, "guitarix-lv2") }, () => {
  test("runs a plugin by URI with symbol=value controls, like the typed pedal", async () => {
    const input = mono(48000, material(48000, 0.3));
    const generic = await render(lv2Plugin, input, {
      uri: TS9_URI,
      controls: "fslider2_=0.8; fslider0_=-10",
    });
    const typed = await render(lv2Ts9, input, { drive: 0.8, level: -10 });
    assertSameAudio(generic.audio, typed.audio, "lv2.plugin vs lv2.ts9");
  });

  test("unknown controls, values outside the plugin's range and unknown plugins are clear errors", async () => {
    const input = mono(48000, sine(48000, 200, 0.1));
    await assert.rejects(
      render(lv2Plugin, input, { uri: TS9_URI, controls: "gain=1" }),
      (error: unknown) =>
        error instanceof OptionError &&
        /no control input "gain" \(valid: fslider0_ \[-20\.\.4, default -16\]/.test(error.message),
    );
    await assert.rejects(
      render(lv2Plugin, input, { uri: TS9_URI, controls: "fslider2_=2" }),
      /fslider2_: must be in \[0\.\.1, default 0\.5\], got 2/,
    );
    await assert.rejects(render(lv2Ts9, input, { drive: 2 }), OptionError);
    await assert.rejects(
      render(lv2Plugin, input, { uri: "http://guitarix.sourceforge.net/plugins/no-such-plugin" }),
      (error: unknown) =>
        error instanceof ToolError &&
        error.code === "tool/missing" &&
        /apt-get install -y guitarix-lv2/.test(error.message),
    );
  });

  test("listLv2Plugins lists the pedals with their audio ports and controls", async () => {
    const plugins = await listLv2Plugins();
    const ts9 = plugins.find((p) => p.uri === TS9_URI);
    assert.ok(ts9, "TS9 listed");
    assert.equal(ts9.name, "GxTubeScreamer");
    assert.equal(ts9.audioInputs, 1);
    assert.equal(ts9.audioOutputs, 1);
    assert.equal(ts9.unsupportedReason, undefined);
    assert.deepEqual(
      ts9.controls.map((c) => [c.symbol, c.name, c.minimum, c.maximum, c.default]),
      [
        ["fslider0_", "Level", -20, 4, -16],
        ["fslider1_", "Tone", 100, 1000, 400],
        ["fslider2_", "Drive", 0, 1, 0.5],
        ["BYPASS", "BYPASS", 0, 1, 1],
      ],
    );
    for (const uri of [DS1_URI, BIG_MUFF_URI, FUZZ_FACE_URI])
      assert.ok(
        plugins.some((p) => p.uri === uri),
        uri,
      );
    assert.equal(new Set(plugins.map((p) => p.uri)).size, plugins.length, "no duplicates");
  });

  test("a plugin the machine lacks is named with its package by unavailableReason", async () => {
    const reason = await lv2UnavailableReason("http://calf.sourceforge.net/plugins/NoSuchPlugin");
    assert.match(reason ?? "", /is not installed \(apt-get install -y calf-plugins\)/);
  });
});

const SWH_LIMITER = "http://plugin.org.uk/swh-plugins/fastLookaheadLimiter";
const SWH_HILBERT = "http://plugin.org.uk/swh-plugins/hilbert";
const SWH_OSCILLATOR = "http://plugin.org.uk/swh-plugins/analogueOsc";

describe("lv2 latency and hosting limits (swh-lv2)", { skip: needs(SWH_LIMITER, "swh-lv2") }, () => {
  for (const uri of [SWH_LIMITER, SWH_HILBERT]) {
    test(`${uri.split("/").pop()}: the reported latency is where the output lines up with the input`, async () => {
      for (const rate of [44100, 96000]) {
        const x = material(rate, 0.5);
        const input = makeAudio(rate, [x, x.map((v) => 0.5 * v)]);
        const { audio, latencySamples } = await renderLv2(input, uri, {}, uri);
        assert.ok(latencySamples > 0, `${rate} Hz: some latency (${latencySamples})`);
        const measured = phatDelay(x, audio.channels[0]!, Math.round(0.1 * rate));
        assert.equal(latencySamples, measured.delaySamples, `${rate} Hz: reported vs cross-correlation`);
      }
    });
  }

  test("the fast lookahead limiter's latency is its 5 ms lookahead", async () => {
    const { latencySamples } = await renderLv2(mono(48000, material(48000, 0.3)), SWH_LIMITER, {}, "limiter");
    assert.equal(latencySamples, 240);
  });

  test("a plugin lv2apply cannot host (no audio input) is refused before running", async () => {
    await assert.rejects(
      render(lv2Plugin, mono(48000, sine(48000, 200, 0.1)), { uri: SWH_OSCILLATOR }),
      (error: unknown) =>
        error instanceof DeepspError &&
        error.code === "effects/unsupported" &&
        /no audio input/.test(error.message),
    );
  });
});
