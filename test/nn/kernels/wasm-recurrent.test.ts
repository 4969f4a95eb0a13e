import assert from "node:assert/strict";
import { describe } from "node:test";
import { type Floats, jsKernels, type RecurrentShape, wasmKernels } from "../../../src/nn/kernels/index.ts";
import { gradcheck, Rng, randomArray, weightedSum } from "../../helpers/gradcheck.ts";
import { testEachBuild } from "../../helpers/wasm-builds.ts";

/*
 * The wasm SIMD LSTM / GRU kernels (assembly/recurrent.ts) against their JS twins in float32, against float32
 * central differences, and the Float64Array fallback to the twins.
 *
 * Errors are measured relative to magnitudes: |wasm - js| / (max |js| over the array), so that a gradient entry
 * that is a near-cancelling sum does not count as a large relative error. Sources of difference: the fast
 * sigmoid / tanh (absolute errors ~1e-7), float32 sums in other orders, float32 pre-activation gradients (the
 * twin keeps them in float64) and per-window float32 weight-gradient sums added in float64. Measured worst over
 * these shapes (printed): forward ~4e-7, backward ~2.5e-6; at training shapes (2048 steps, batch 16 / 256,
 * hidden 16 / 32) every output is within ~5e-7. The bounds leave ~10x headroom.
 */
const FORWARD_TOLERANCE = 5e-6;
const BACKWARD_TOLERANCE = 3e-5;

type Cell = "lstm" | "gru";
const gateCount = (cell: Cell) => (cell === "lstm" ? 4 : 3);

interface Flags {
  h0: boolean;
  c0: boolean;
  dhT: boolean;
  dcT: boolean;
  dx: boolean;
  dh0: boolean;
  dc0: boolean;
}

/** Float64 values of one random problem; `run` turns them into arrays of either float type. */
interface Problem {
  cell: Cell;
  shape: RecurrentShape;
  flags: Flags;
  values: Record<string, Float64Array>;
}

function makeProblem(rng: Rng, cell: Cell, shape: RecurrentShape, flags: Flags): Problem {
  const { steps, batch, inputs, hidden } = shape;
  const g = gateCount(cell);
  const state = batch * hidden;
  const scale = 1 / Math.sqrt(hidden);
  const values: Record<string, Float64Array> = {
    x: randomArray(steps * batch * inputs, rng),
    wIh: randomArray(g * hidden * inputs, rng, scale),
    wHh: randomArray(g * hidden * hidden, rng, scale),
    bIh: randomArray(g * hidden, rng, scale),
    bHh: randomArray(g * hidden, rng, scale),
    h0: randomArray(state, rng),
    c0: randomArray(state, rng),
    dh: randomArray(steps * state, rng),
    dhT: randomArray(state, rng),
    dcT: randomArray(state, rng),
    // Starting values of the gradients (backward adds to them).
    dx: randomArray(steps * batch * inputs, rng),
    dwIh: randomArray(g * hidden * inputs, rng),
    dwHh: randomArray(g * hidden * hidden, rng),
    dbIh: randomArray(g * hidden, rng),
    dbHh: randomArray(g * hidden, rng),
    dh0: randomArray(state, rng),
    dc0: randomArray(state, rng),
  };
  return { cell, shape, flags, values };
}

type Make = (values: Float64Array) => Floats;
const as32: Make = (v) => Float32Array.from(v);
const as64: Make = (v) => Float64Array.from(v);

/** Forward with `forward`, then backward with `backward` from the forward's saved values; returns every output. */
function run(
  p: Problem,
  make: Make,
  forward = wasmKernels,
  backward = forward,
): Record<string, Floats | null> {
  const { cell, shape, flags, values: v } = p;
  const { steps, batch, hidden } = shape;
  const size = steps * batch * hidden;
  const opt = (on: boolean, name: string) => (on ? make(v[name]!) : null);
  const inputs = {
    x: make(v.x!),
    wIh: make(v.wIh!),
    wHh: make(v.wHh!),
    bIh: make(v.bIh!),
    bHh: make(v.bHh!),
  };
  const h0 = opt(flags.h0, "h0");
  const h = make(new Float64Array(size));
  const gates = make(new Float64Array(gateCount(cell) * size));
  const grads = {
    dx: opt(flags.dx, "dx"),
    dwIh: make(v.dwIh!),
    dwHh: make(v.dwHh!),
    dbIh: make(v.dbIh!),
    dbHh: make(v.dbHh!),
    dh0: opt(flags.dh0, "dh0"),
  };
  const dh = make(v.dh!);
  const dhT = opt(flags.dhT, "dhT");
  if (cell === "lstm") {
    const c0 = opt(flags.c0, "c0");
    const c = make(new Float64Array(size));
    forward.lstmForward({ h, c, gates, ...inputs, h0, c0 }, shape);
    const dc0 = opt(flags.dc0, "dc0");
    const saved = {
      h: make(Float64Array.from(h)),
      c: make(Float64Array.from(c)),
      g: make(Float64Array.from(gates)),
    };
    backward.lstmBackward(
      {
        ...grads,
        dc0,
        dh,
        dhT,
        dcT: opt(flags.dcT, "dcT"),
        ...inputs,
        h: saved.h,
        c: saved.c,
        gates: saved.g,
        h0,
        c0,
      },
      shape,
    );
    assert.deepEqual(Float64Array.from(dh), Float64Array.from(make(v.dh!)), "dh is read only");
    return { h, c, gates, ...grads, dc0 };
  }
  const hn = make(new Float64Array(size));
  forward.gruForward({ h, gates, hn, ...inputs, h0 }, shape);
  backward.gruBackward({ ...grads, dh, dhT, ...inputs, h, gates, hn, h0 }, shape);
  return { h, gates, hn, ...grads };
}

/** max |a - e| / max |e| (1 where e is all zeros and a is not). */
function relativeError(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    assert.ok(Number.isFinite(a[i]!), `non-finite value at ${i}`);
    diff = Math.max(diff, Math.abs(a[i]! - e[i]!));
    scale = Math.max(scale, Math.abs(e[i]!));
  }
  return scale > 0 ? diff / scale : diff;
}

const FORWARD_NAMES = new Set(["h", "c", "gates", "hn"]);

function randomShapes(rng: Rng, count: number): RecurrentShape[] {
  const pick = <T>(values: T[]) => values[rng.int(values.length)]!;
  const shapes: RecurrentShape[] = [
    { steps: 1, batch: 1, inputs: 1, hidden: 1 },
    { steps: 2, batch: 16, inputs: 1, hidden: 16 },
    { steps: 7, batch: 16, inputs: 1, hidden: 32 },
    { steps: 5, batch: 3, inputs: 2, hidden: 32 },
    // A second stacked layer: inputs = hidden.
    { steps: 5, batch: 5, inputs: 16, hidden: 16 },
    // Several windows of steps (forward and backward), a short last one; one step per window; padded rows.
    { steps: 300, batch: 4, inputs: 1, hidden: 8 },
    { steps: 3, batch: 520, inputs: 1, hidden: 16 },
    { steps: 7, batch: 600, inputs: 2, hidden: 3 },
    // No steps: the final state is the initial one, so backward adds dhT (dcT) to dh0 (dc0).
    { steps: 0, batch: 2, inputs: 1, hidden: 3 },
  ];
  while (shapes.length < count) {
    shapes.push({
      steps: 1 + rng.int(50),
      batch: pick([1, 2, 3, 5, 16]),
      inputs: pick([1, 2]),
      hidden: pick([1, 3, 16, 32]),
    });
  }
  return shapes;
}

describe("wasm recurrent kernels", () => {
  for (const cell of ["lstm", "gru"] as const) {
    testEachBuild(
      `${cell}: wasm equals the JS twin in float32 (random shapes, null and given states)`,
      () => {
        const rng = new Rng(cell === "lstm" ? 11 : 12);
        const worst = { forward: 0, backward: 0, where: "" };
        randomShapes(rng, 40).forEach((shape, index) => {
          const bit = (n: number) => ((index >> n) & 1) === 1;
          const flags = {
            h0: bit(0),
            c0: bit(1),
            dhT: bit(2),
            dcT: bit(3),
            dx: !bit(4),
            dh0: !bit(1),
            dc0: !bit(0),
          };
          const p = makeProblem(rng, cell, shape, flags);
          const expected = run(p, as32, jsKernels);
          // Backward from the twin's forward values, so that its error is measured on its own.
          const forwardOnly = run(p, as32, wasmKernels, jsKernels);
          const backwardOnly = run(p, as32, jsKernels, wasmKernels);
          for (const [name, e] of Object.entries(expected)) {
            const forwardName = FORWARD_NAMES.has(name);
            const a = (forwardName ? forwardOnly : backwardOnly)[name]!;
            assert.equal(a === null, e === null, name);
            if (!a || !e) continue;
            const error = relativeError(a, e);
            const what = `${cell} ${JSON.stringify(shape)} ${JSON.stringify(flags)}: ${name}`;
            const kind = forwardName ? "forward" : "backward";
            if (error > worst[kind]) Object.assign(worst, { [kind]: error, where: what });
            assert.ok(
              error <= (forwardName ? FORWARD_TOLERANCE : BACKWARD_TOLERANCE),
              `${what}: error ${error}`,
            );
          }
        });
        console.log(
          `${cell}: worst error relative to magnitude: forward ${worst.forward.toExponential(2)}, backward ${worst.backward.toExponential(2)}`,
        );
      },
    );

    testEachBuild(`${cell}: wasm gradients match float32 central differences`, () => {
      const rng = new Rng(cell === "lstm" ? 21 : 22);
      for (const shape of [
        { steps: 4, batch: 3, inputs: 2, hidden: 3 },
        { steps: 3, batch: 2, inputs: 1, hidden: 4 },
      ]) {
        const { steps, batch, hidden } = shape;
        const state = batch * hidden;
        const size = steps * state;
        const p = makeProblem(rng, cell, shape, flagsAll());
        const v = p.values;
        const lstm = cell === "lstm";
        const h = new Float32Array(size);
        const c = new Float32Array(size);
        const gates = new Float32Array(gateCount(cell) * size);
        const hn = new Float32Array(size);
        const f32 = (name: string) => Float32Array.from(v[name]!);
        const last = (steps - 1) * state;
        // Loss = sum dh * h (every step) + sum dhT * h_T (+ sum dcT * c_T), summed in float64.
        const loss = (): number => {
          const args = { x: f32("x"), wIh: f32("wIh"), wHh: f32("wHh"), bIh: f32("bIh"), bHh: f32("bHh") };
          if (lstm) wasmKernels.lstmForward({ h, c, gates, ...args, h0: f32("h0"), c0: f32("c0") }, shape);
          else wasmKernels.gruForward({ h, gates, hn, ...args, h0: f32("h0") }, shape);
          const value = weightedSum(h, v.dh!) + weightedSum(h.subarray(last), v.dhT!);
          return lstm ? value + weightedSum(c.subarray(last), v.dcT!) : value;
        };
        loss();
        const names = ["x", "wIh", "wHh", "bIh", "bHh", "h0", ...(lstm ? ["c0"] : [])];
        const grads = Object.fromEntries(names.map((n) => [n, new Float32Array(v[n]!.length)]));
        const common = {
          dx: grads.x!,
          dwIh: grads.wIh!,
          dwHh: grads.wHh!,
          dbIh: grads.bIh!,
          dbHh: grads.bHh!,
          dh0: grads.h0!,
          dh: f32("dh"),
          dhT: f32("dhT"),
          x: f32("x"),
          wIh: f32("wIh"),
          wHh: f32("wHh"),
          h,
          gates,
          h0: f32("h0"),
        };
        if (lstm)
          wasmKernels.lstmBackward({ ...common, dc0: grads.c0!, dcT: f32("dcT"), c, c0: f32("c0") }, shape);
        else wasmKernels.gruBackward({ ...common, hn }, shape);
        gradcheck(
          loss,
          names.map((n) => ({ name: `${cell} ${n}`, values: v[n]!, grad: Float64Array.from(grads[n]!) })),
          { eps: 1e-2, atol: 2e-3, rtol: 2e-2 },
        );
      }
    });

    testEachBuild(`${cell}: Float64Array arguments run the JS twin (bit-equal results)`, () => {
      const rng = new Rng(31);
      const p = makeProblem(rng, cell, { steps: 6, batch: 3, inputs: 2, hidden: 5 }, flagsAll());
      const a = run(p, as64, wasmKernels);
      const e = run(p, as64, jsKernels);
      for (const [name, values] of Object.entries(e)) assert.deepEqual(a[name], values, name);
    });

    testEachBuild(`${cell}: scratch reuse across shapes leaves results unchanged`, () => {
      const rng = new Rng(41);
      const small = makeProblem(rng, cell, { steps: 5, batch: 3, inputs: 2, hidden: 3 }, flagsAll());
      const big = makeProblem(rng, cell, { steps: 40, batch: 17, inputs: 1, hidden: 16 }, flagsAll());
      const first = run(small, as32);
      run(big, as32);
      const again = run(small, as32);
      for (const [name, values] of Object.entries(first)) assert.deepEqual(again[name], values, name);
    });
  }
});

function flagsAll(): Flags {
  return { h0: true, c0: true, dhT: true, dcT: true, dx: true, dh0: true, dc0: true };
}
