import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as fast from "../../../src/nn/kernels/js/lstm.ts";
import * as reference from "../../../src/nn/kernels/reference/lstm.ts";
import type {
  Floats,
  LstmBackwardArgs,
  LstmForwardArgs,
  RecurrentShape,
} from "../../../src/nn/kernels/types.ts";
import { assertClose, gradcheck, Rng, randomArray, weightedSum } from "../../helpers/gradcheck.ts";

interface LstmKernels {
  lstmForward(args: LstmForwardArgs, shape: RecurrentShape): void;
  lstmBackward(args: LstmBackwardArgs, shape: RecurrentShape): void;
}

const implementations: [string, LstmKernels][] = [
  ["js", fast],
  ["reference", reference],
];

/** A random problem: inputs, weights, optional initial states and the gradients arriving from the loss. */
interface Problem {
  shape: RecurrentShape;
  x: Float64Array;
  wIh: Float64Array;
  wHh: Float64Array;
  bIh: Float64Array;
  bHh: Float64Array;
  h0: Float64Array | null;
  c0: Float64Array | null;
  dh: Float64Array;
  dhT: Float64Array | null;
  dcT: Float64Array | null;
  /** Starting values of the gradient buffers (backward adds to them); null buffers are not passed. */
  grads: Record<GradName, Float64Array | null>;
}

type GradName = "dx" | "dwIh" | "dwHh" | "dbIh" | "dbHh" | "dh0" | "dc0";
const gradNames: GradName[] = ["dx", "dwIh", "dwHh", "dbIh", "dbHh", "dh0", "dc0"];

interface Flags {
  h0: boolean;
  c0: boolean;
  dhT: boolean;
  dcT: boolean;
  dx: boolean;
  dh0: boolean;
  dc0: boolean;
}

function makeProblem(rng: Rng, shape: RecurrentShape, flags: Flags): Problem {
  const { steps, batch, inputs, hidden } = shape;
  const state = batch * hidden;
  const scale = 1 / Math.sqrt(hidden);
  const maybe = (on: boolean, length: number): Float64Array | null => (on ? randomArray(length, rng) : null);
  return {
    shape,
    x: randomArray(steps * batch * inputs, rng),
    wIh: randomArray(4 * hidden * inputs, rng, scale),
    wHh: randomArray(4 * hidden * hidden, rng, scale),
    bIh: randomArray(4 * hidden, rng, scale),
    bHh: randomArray(4 * hidden, rng, scale),
    h0: maybe(flags.h0, state),
    c0: maybe(flags.c0, state),
    dh: randomArray(steps * state, rng),
    dhT: maybe(flags.dhT, state),
    dcT: maybe(flags.dcT, state),
    grads: {
      dx: maybe(flags.dx, steps * batch * inputs),
      dwIh: randomArray(4 * hidden * inputs, rng),
      dwHh: randomArray(4 * hidden * hidden, rng),
      dbIh: randomArray(4 * hidden, rng),
      dbHh: randomArray(4 * hidden, rng),
      dh0: maybe(flags.dh0, state),
      dc0: maybe(flags.dc0, state),
    },
  };
}

type Make = (values: Float64Array) => Floats;
const as64: Make = (values) => Float64Array.from(values);
const as32: Make = (values) => Float32Array.from(values);
const orNull = (values: Float64Array | null, make: Make): Floats | null => (values ? make(values) : null);

function runForward(kernels: LstmKernels, p: Problem, make: Make) {
  const { steps, batch, hidden } = p.shape;
  const size = steps * batch * hidden;
  const out = {
    h: make(new Float64Array(size)),
    c: make(new Float64Array(size)),
    gates: make(new Float64Array(4 * size)),
  };
  const inputs = {
    x: make(p.x),
    wIh: make(p.wIh),
    wHh: make(p.wHh),
    bIh: make(p.bIh),
    bHh: make(p.bHh),
    h0: orNull(p.h0, make),
    c0: orNull(p.c0, make),
  };
  kernels.lstmForward({ ...out, ...inputs }, p.shape);
  return { ...out, ...inputs };
}

function runBackward(kernels: LstmKernels, p: Problem, make: Make) {
  const fwd = runForward(kernels, p, make);
  const grads = {
    dx: orNull(p.grads.dx, make),
    dwIh: make(p.grads.dwIh!),
    dwHh: make(p.grads.dwHh!),
    dbIh: make(p.grads.dbIh!),
    dbHh: make(p.grads.dbHh!),
    dh0: orNull(p.grads.dh0, make),
    dc0: orNull(p.grads.dc0, make),
  };
  const dh = make(p.dh);
  const dhBefore = Float64Array.from(dh);
  kernels.lstmBackward({ ...grads, dh, dhT: orNull(p.dhT, make), dcT: orNull(p.dcT, make), ...fwd }, p.shape);
  assert.deepEqual(Float64Array.from(dh), dhBefore, "dh is read only");
  return { ...fwd, ...grads };
}

function shapeName(shape: RecurrentShape): string {
  return `steps ${shape.steps} batch ${shape.batch} inputs ${shape.inputs} hidden ${shape.hidden}`;
}

describe("lstm kernels", () => {
  test("js equals reference in float64 and float32 (random shapes, null and given states)", () => {
    const rng = new Rng(1);
    const shapes: RecurrentShape[] = [
      { steps: 1, batch: 1, inputs: 1, hidden: 1 },
      { steps: 2, batch: 1, inputs: 1, hidden: 1 },
      { steps: 1, batch: 3, inputs: 2, hidden: 5 },
      { steps: 6, batch: 2, inputs: 1, hidden: 16 },
      { steps: 5, batch: 5, inputs: 3, hidden: 7 },
      // Several chunks of steps in backward, and one step per chunk (batch * 4 * hidden > chunk size).
      { steps: 300, batch: 4, inputs: 1, hidden: 8 },
      { steps: 3, batch: 520, inputs: 1, hidden: 16 },
      // No steps: the final state is the initial one, so backward adds dhT (dcT) to dh0 (dc0).
      { steps: 0, batch: 2, inputs: 1, hidden: 3 },
    ];
    for (let i = 0; i < 25; i++) {
      shapes.push({
        steps: 1 + rng.int(9),
        batch: 1 + rng.int(6),
        inputs: 1 + rng.int(4),
        hidden: 1 + rng.int(9),
      });
    }
    shapes.forEach((shape, index) => {
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
      if (index === 6) Object.assign(flags, { h0: true, c0: false });
      if (index === 7) Object.assign(flags, flagsAll());
      const problem = makeProblem(rng, shape, flags);
      for (const [make, type, tolerance] of [
        [as64, "float64", { forward: 1e-12, backward: 1e-10 }],
        [as32, "float32", { forward: 2e-6, backward: 1e-4 }],
      ] as const) {
        const expected = runBackward(reference, problem, make);
        const actual = runBackward(fast, problem, make);
        for (const name of ["h", "c", "gates", ...gradNames] as const) {
          const a = actual[name];
          const e = expected[name];
          const what = `${type} ${shapeName(shape)} ${JSON.stringify(flags)}: ${name}`;
          assert.equal(a === null, e === null, what);
          if (!a || !e) continue;
          const tol =
            name === "h" || name === "c" || name === "gates" ? tolerance.forward : tolerance.backward;
          assertClose(a, e, { atol: tol, rtol: tol, what });
        }
      }
    });
  });

  for (const [name, kernels] of implementations) {
    test(`${name}: gradients match float64 central differences`, () => {
      const rng = new Rng(2);
      const shapes: RecurrentShape[] = [
        { steps: 3, batch: 2, inputs: 2, hidden: 3 },
        { steps: 2, batch: 1, inputs: 1, hidden: 1 },
        { steps: 4, batch: 3, inputs: 1, hidden: 2 },
      ];
      for (const shape of shapes) {
        const { steps, batch, inputs, hidden } = shape;
        const state = batch * hidden;
        const x = randomArray(steps * batch * inputs, rng);
        const wIh = randomArray(4 * hidden * inputs, rng);
        const wHh = randomArray(4 * hidden * hidden, rng);
        const bIh = randomArray(4 * hidden, rng);
        const bHh = randomArray(4 * hidden, rng);
        const h0 = randomArray(state, rng);
        const c0 = randomArray(state, rng);
        // Loss = sum wH * h (every step) + sum wHT * h_T + sum wCT * c_T: dh = wH, dhT = wHT, dcT = wCT.
        const wH = randomArray(steps * state, rng);
        const wHT = randomArray(state, rng);
        const wCT = randomArray(state, rng);
        const h = new Float64Array(steps * state);
        const c = new Float64Array(steps * state);
        const gates = new Float64Array(4 * steps * state);
        const last = (steps - 1) * state;
        const loss = (): number => {
          kernels.lstmForward({ h, c, gates, x, wIh, wHh, bIh, bHh, h0, c0 }, shape);
          return weightedSum(h, wH) + weightedSum(h.subarray(last), wHT) + weightedSum(c.subarray(last), wCT);
        };
        loss();
        const g = {
          dx: new Float64Array(x.length),
          dwIh: new Float64Array(wIh.length),
          dwHh: new Float64Array(wHh.length),
          dbIh: new Float64Array(bIh.length),
          dbHh: new Float64Array(bHh.length),
          dh0: new Float64Array(state),
          dc0: new Float64Array(state),
        };
        kernels.lstmBackward({ ...g, dh: wH, dhT: wHT, dcT: wCT, x, wIh, wHh, h, c, gates, h0, c0 }, shape);
        gradcheck(loss, [
          { name: "wIh", values: wIh, grad: g.dwIh },
          { name: "wHh", values: wHh, grad: g.dwHh },
          { name: "bIh", values: bIh, grad: g.dbIh },
          { name: "bHh", values: bHh, grad: g.dbHh },
          { name: "x", values: x, grad: g.dx },
          { name: "h0", values: h0, grad: g.dh0 },
          { name: "c0", values: c0, grad: g.dc0 },
        ]);
      }
    });

    test(`${name}: two chunks with the state carried over equal one run (forward and backward)`, () => {
      const rng = new Rng(3);
      for (const [shape, split] of [
        [{ steps: 9, batch: 3, inputs: 2, hidden: 5 }, 4],
        [{ steps: 2, batch: 1, inputs: 1, hidden: 2 }, 1],
        [{ steps: 70, batch: 150, inputs: 1, hidden: 4 }, 33],
      ] as const) {
        const { steps, batch, inputs, hidden } = shape;
        const state = batch * hidden;
        const p = makeProblem(rng, shape, flagsAll());
        const zeroGrads = () => ({
          dx: new Float64Array(steps * batch * inputs),
          dwIh: new Float64Array(4 * hidden * inputs),
          dwHh: new Float64Array(4 * hidden * hidden),
          dbIh: new Float64Array(4 * hidden),
          dbHh: new Float64Array(4 * hidden),
          dh0: new Float64Array(state),
          dc0: new Float64Array(state),
        });
        const weights = { wIh: p.wIh, wHh: p.wHh, bIh: p.bIh, bHh: p.bHh };

        // Whole sequence.
        const h = new Float64Array(steps * state);
        const c = new Float64Array(steps * state);
        const gates = new Float64Array(4 * steps * state);
        kernels.lstmForward({ h, c, gates, x: p.x, ...weights, h0: p.h0, c0: p.c0 }, shape);
        const whole = zeroGrads();
        kernels.lstmBackward(
          {
            ...whole,
            dh: p.dh,
            dhT: p.dhT,
            dcT: p.dcT,
            x: p.x,
            wIh: p.wIh,
            wHh: p.wHh,
            h,
            c,
            gates,
            h0: p.h0,
            c0: p.c0,
          },
          shape,
        );

        // Two chunks: steps [0, split) and [split, steps).
        const first = { ...shape, steps: split };
        const second = { ...shape, steps: steps - split };
        const rowsAt = (t: number, width: number) => t * batch * width;
        const h2 = new Float64Array(steps * state);
        const c2 = new Float64Array(steps * state);
        const gates2 = new Float64Array(4 * steps * state);
        const view = (a: Float64Array, t0: number, t1: number, width: number) =>
          a.subarray(rowsAt(t0, width), rowsAt(t1, width));
        const part = (t0: number, t1: number) => ({
          h: view(h2, t0, t1, hidden),
          c: view(c2, t0, t1, hidden),
          gates: view(gates2, t0, t1, 4 * hidden),
          x: view(p.x, t0, t1, inputs),
        });
        const a = part(0, split);
        const b = part(split, steps);
        // The second chunk starts from the first chunk's final states.
        kernels.lstmForward({ ...a, ...weights, h0: p.h0, c0: p.c0 }, first);
        const secondH0 = h2.slice(rowsAt(split - 1, hidden), rowsAt(split, hidden));
        const secondC0 = c2.slice(rowsAt(split - 1, hidden), rowsAt(split, hidden));
        kernels.lstmForward({ ...b, ...weights, h0: secondH0, c0: secondC0 }, second);
        assert.deepEqual(h2, h, "h");
        assert.deepEqual(c2, c, "c");
        assert.deepEqual(gates2, gates, "gates");

        const chunked = zeroGrads();
        const dhMid = new Float64Array(state);
        const dcMid = new Float64Array(state);
        kernels.lstmBackward(
          {
            ...chunked,
            dx: view(chunked.dx, split, steps, inputs),
            dh0: dhMid,
            dc0: dcMid,
            dh: view(p.dh, split, steps, hidden),
            dhT: p.dhT,
            dcT: p.dcT,
            wIh: p.wIh,
            wHh: p.wHh,
            ...b,
            h0: secondH0,
            c0: secondC0,
          },
          second,
        );
        kernels.lstmBackward(
          {
            ...chunked,
            dx: view(chunked.dx, 0, split, inputs),
            dh: view(p.dh, 0, split, hidden),
            dhT: dhMid,
            dcT: dcMid,
            wIh: p.wIh,
            wHh: p.wHh,
            ...a,
            h0: p.h0,
            c0: p.c0,
          },
          first,
        );
        for (const n of gradNames) {
          assertClose(chunked[n], whole[n], {
            atol: 1e-12,
            rtol: 1e-12,
            what: `${shapeName(shape)} split ${split}: ${n}`,
          });
        }
      }
    });

    test(`${name}: hand-computed hidden-1 case pins the gate order (i, f, g, o) and both biases`, () => {
      const shape = { steps: 2, batch: 1, inputs: 1, hidden: 1 };
      // Rows i, f, g, o.
      const wIh = Float64Array.of(0.5, -0.25, 1.0, 0.75);
      const wHh = Float64Array.of(0.1, 0.2, -0.3, 0.4);
      const bIh = Float64Array.of(0.01, 0.02, 0.03, 0.04);
      const bHh = Float64Array.of(0.1, 0.2, 0.3, 0.4);
      const x = Float64Array.of(1, -2);
      const h0 = Float64Array.of(0.5);
      const c0 = Float64Array.of(-0.25);
      const s = (v: number) => 1 / (1 + Math.exp(-v));
      // Step 1: x = 1, h = 0.5, c = -0.25.
      const i1 = s(0.5 * 1 + 0.01 + 0.1 * 0.5 + 0.1); // s(0.66)
      const f1 = s(-0.25 * 1 + 0.02 + 0.2 * 0.5 + 0.2); // s(0.07)
      const g1 = Math.tanh(1.0 * 1 + 0.03 - 0.3 * 0.5 + 0.3); // tanh(1.18)
      const o1 = s(0.75 * 1 + 0.04 + 0.4 * 0.5 + 0.4); // s(1.39)
      const c1 = f1 * -0.25 + i1 * g1;
      const h1 = o1 * Math.tanh(c1);
      // Step 2: x = -2, h = h1, c = c1.
      const i2 = s(0.5 * -2 + 0.01 + 0.1 * h1 + 0.1);
      const f2 = s(-0.25 * -2 + 0.02 + 0.2 * h1 + 0.2);
      const g2 = Math.tanh(1.0 * -2 + 0.03 - 0.3 * h1 + 0.3);
      const o2 = s(0.75 * -2 + 0.04 + 0.4 * h1 + 0.4);
      const c2 = f2 * c1 + i2 * g2;
      const h2 = o2 * Math.tanh(c2);

      const h = new Float64Array(2);
      const c = new Float64Array(2);
      const gates = new Float64Array(8);
      kernels.lstmForward({ h, c, gates, x, wIh, wHh, bIh, bHh, h0, c0 }, shape);
      assertClose(h, [h1, h2], { atol: 1e-15, rtol: 1e-14, what: "h" });
      assertClose(c, [c1, c2], { atol: 1e-15, rtol: 1e-14, what: "c" });
      assertClose(gates, [i1, f1, g1, o1, i2, f2, g2, o2], { atol: 1e-15, rtol: 1e-14, what: "gates" });
      // PyTorch 1.13 nn.LSTM(1, 1).double() with these weights, (h0, c0) = (0.5, -0.25).
      assertClose(h, [0.3151672101351428, 0.001386171569193661], {
        atol: 1e-14,
        rtol: 1e-13,
        what: "h vs PyTorch",
      });
      assertClose([c[1]!], [0.0049133209563149705], { atol: 1e-14, rtol: 1e-13, what: "c_T vs PyTorch" });

      // Loss = h1 + h2 + 2 c_T: its PyTorch gradients.
      const g = {
        dx: new Float64Array(2),
        dwIh: new Float64Array(4),
        dwHh: new Float64Array(4),
        dbIh: new Float64Array(4),
        dbHh: new Float64Array(4),
        dh0: new Float64Array(1),
        dc0: new Float64Array(1),
      };
      const dh = Float64Array.of(1, 1);
      kernels.lstmBackward(
        { ...g, dh, dhT: null, dcT: Float64Array.of(2), x, wIh, wHh, h, c, gates, h0, c0 },
        shape,
      );
      const torchBias = [-0.03632194430209884, 0.06554868918747844, 0.5377637241656275, 0.062190920653709895];
      const expected = {
        dwIh: [1.3133881685585058, -0.5477826837084827, 0.3121030830276646, 0.0592056371057894],
        dwHh: [0.0649959230718962, -0.005013571660928626, 0.25497870012807305, 0.030911534231288344],
        dbIh: torchBias,
        dbHh: torchBias,
        dx: [0.749954868826454, -0.20009609861846311],
        dh0: [-0.10070560037122217],
        dc0: [1.1514449390828578],
      };
      for (const n of gradNames)
        assertClose(g[n], expected[n], { atol: 1e-14, rtol: 1e-13, what: `${n} vs PyTorch` });
    });
  }

  test("js: scratch reuse across calls of different shapes leaves results unchanged", () => {
    const rng = new Rng(4);
    const small = makeProblem(rng, { steps: 5, batch: 3, inputs: 2, hidden: 3 }, flagsAll());
    const big = makeProblem(rng, { steps: 40, batch: 9, inputs: 1, hidden: 12 }, flagsAll());
    const first = runBackward(fast, small, as64);
    runBackward(fast, big, as64);
    const again = runBackward(fast, small, as64);
    for (const n of ["h", "c", "gates", ...gradNames] as const) assert.deepEqual(again[n], first[n], n);
  });
});

function flagsAll(): Flags {
  return { h0: true, c0: true, dhT: true, dcT: true, dx: true, dh0: true, dc0: true };
}
