import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as fast from "../../../src/nn/kernels/js/gru.ts";
import * as reference from "../../../src/nn/kernels/reference/gru.ts";
import type {
  Floats,
  GruBackwardArgs,
  GruForwardArgs,
  RecurrentShape,
} from "../../../src/nn/kernels/types.ts";
import { assertClose, gradcheck, Rng, randomArray, weightedSum } from "../../helpers/gradcheck.ts";

interface GruKernels {
  gruForward(args: GruForwardArgs, shape: RecurrentShape): void;
  gruBackward(args: GruBackwardArgs, shape: RecurrentShape): void;
}

const implementations: [string, GruKernels][] = [
  ["js", fast],
  ["reference", reference],
];

/** A random problem: inputs, weights, an optional initial state and the gradients arriving from the loss. */
interface Problem {
  shape: RecurrentShape;
  x: Float64Array;
  wIh: Float64Array;
  wHh: Float64Array;
  bIh: Float64Array;
  bHh: Float64Array;
  h0: Float64Array | null;
  dh: Float64Array;
  dhT: Float64Array | null;
  /** Starting values of the gradient buffers (backward adds to them); null buffers are not passed. */
  grads: Record<GradName, Float64Array | null>;
}

type GradName = "dx" | "dwIh" | "dwHh" | "dbIh" | "dbHh" | "dh0";
const gradNames: GradName[] = ["dx", "dwIh", "dwHh", "dbIh", "dbHh", "dh0"];

interface Flags {
  h0: boolean;
  dhT: boolean;
  dx: boolean;
  dh0: boolean;
}

const flagsAll: Flags = { h0: true, dhT: true, dx: true, dh0: true };

function makeProblem(rng: Rng, shape: RecurrentShape, flags: Flags): Problem {
  const { steps, batch, inputs, hidden } = shape;
  const state = batch * hidden;
  const scale = 1 / Math.sqrt(hidden);
  const maybe = (on: boolean, length: number): Float64Array | null => (on ? randomArray(length, rng) : null);
  return {
    shape,
    x: randomArray(steps * batch * inputs, rng),
    wIh: randomArray(3 * hidden * inputs, rng, scale),
    wHh: randomArray(3 * hidden * hidden, rng, scale),
    bIh: randomArray(3 * hidden, rng, scale),
    bHh: randomArray(3 * hidden, rng, scale),
    h0: maybe(flags.h0, state),
    dh: randomArray(steps * state, rng),
    dhT: maybe(flags.dhT, state),
    grads: {
      dx: maybe(flags.dx, steps * batch * inputs),
      dwIh: randomArray(3 * hidden * inputs, rng),
      dwHh: randomArray(3 * hidden * hidden, rng),
      dbIh: randomArray(3 * hidden, rng),
      dbHh: randomArray(3 * hidden, rng),
      dh0: maybe(flags.dh0, state),
    },
  };
}

type Make = (values: Float64Array) => Floats;
const as64: Make = (values) => Float64Array.from(values);
const as32: Make = (values) => Float32Array.from(values);
const orNull = (values: Float64Array | null, make: Make): Floats | null => (values ? make(values) : null);

function runForward(kernels: GruKernels, p: Problem, make: Make) {
  const { steps, batch, hidden } = p.shape;
  const size = steps * batch * hidden;
  const out = {
    h: make(new Float64Array(size)),
    gates: make(new Float64Array(3 * size)),
    hn: make(new Float64Array(size)),
  };
  const inputs = {
    x: make(p.x),
    wIh: make(p.wIh),
    wHh: make(p.wHh),
    bIh: make(p.bIh),
    bHh: make(p.bHh),
    h0: orNull(p.h0, make),
  };
  kernels.gruForward({ ...out, ...inputs }, p.shape);
  return { ...out, ...inputs };
}

function runBackward(kernels: GruKernels, p: Problem, make: Make) {
  const fwd = runForward(kernels, p, make);
  const grads = {
    dx: orNull(p.grads.dx, make),
    dwIh: make(p.grads.dwIh!),
    dwHh: make(p.grads.dwHh!),
    dbIh: make(p.grads.dbIh!),
    dbHh: make(p.grads.dbHh!),
    dh0: orNull(p.grads.dh0, make),
  };
  const dh = make(p.dh);
  const dhBefore = Float64Array.from(dh);
  kernels.gruBackward({ ...grads, dh, dhT: orNull(p.dhT, make), ...fwd }, p.shape);
  assert.deepEqual(Float64Array.from(dh), dhBefore, "dh is read only");
  return { ...fwd, ...grads };
}

function shapeName(shape: RecurrentShape): string {
  return `steps ${shape.steps} batch ${shape.batch} inputs ${shape.inputs} hidden ${shape.hidden}`;
}

describe("gru kernels", () => {
  test("js equals reference in float64 and float32 (random shapes, null and given states)", () => {
    const rng = new Rng(11);
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
      const flags = { h0: bit(0), dhT: bit(1), dx: !bit(2), dh0: !bit(3) };
      const problem = makeProblem(rng, shape, flags);
      for (const [make, type, tolerance] of [
        [as64, "float64", { forward: 1e-12, backward: 1e-10 }],
        [as32, "float32", { forward: 2e-6, backward: 1e-4 }],
      ] as const) {
        const expected = runBackward(reference, problem, make);
        const actual = runBackward(fast, problem, make);
        for (const name of ["h", "gates", "hn", ...gradNames] as const) {
          const a = actual[name];
          const e = expected[name];
          const what = `${type} ${shapeName(shape)} ${JSON.stringify(flags)}: ${name}`;
          assert.equal(a === null, e === null, what);
          if (!a || !e) continue;
          const tol =
            name === "h" || name === "gates" || name === "hn" ? tolerance.forward : tolerance.backward;
          assertClose(a, e, { atol: tol, rtol: tol, what });
        }
      }
    });
  });

  for (const [name, kernels] of implementations) {
    test(`${name}: gradients match float64 central differences`, () => {
      const rng = new Rng(12);
      const shapes: RecurrentShape[] = [
        { steps: 3, batch: 2, inputs: 2, hidden: 3 },
        { steps: 2, batch: 1, inputs: 1, hidden: 1 },
        { steps: 4, batch: 3, inputs: 1, hidden: 2 },
      ];
      for (const shape of shapes) {
        const { steps, batch, inputs, hidden } = shape;
        const state = batch * hidden;
        const x = randomArray(steps * batch * inputs, rng);
        const wIh = randomArray(3 * hidden * inputs, rng);
        const wHh = randomArray(3 * hidden * hidden, rng);
        const bIh = randomArray(3 * hidden, rng);
        const bHh = randomArray(3 * hidden, rng);
        const h0 = randomArray(state, rng);
        // Loss = sum wH * h (every step) + sum wHT * h_T: dh = wH, dhT = wHT.
        const wH = randomArray(steps * state, rng);
        const wHT = randomArray(state, rng);
        const h = new Float64Array(steps * state);
        const gates = new Float64Array(3 * steps * state);
        const hn = new Float64Array(steps * state);
        const last = (steps - 1) * state;
        const loss = (): number => {
          kernels.gruForward({ h, gates, hn, x, wIh, wHh, bIh, bHh, h0 }, shape);
          return weightedSum(h, wH) + weightedSum(h.subarray(last), wHT);
        };
        loss();
        const g = {
          dx: new Float64Array(x.length),
          dwIh: new Float64Array(wIh.length),
          dwHh: new Float64Array(wHh.length),
          dbIh: new Float64Array(bIh.length),
          dbHh: new Float64Array(bHh.length),
          dh0: new Float64Array(state),
        };
        kernels.gruBackward({ ...g, dh: wH, dhT: wHT, x, wIh, wHh, h, gates, hn, h0 }, shape);
        gradcheck(loss, [
          { name: "wIh", values: wIh, grad: g.dwIh },
          { name: "wHh", values: wHh, grad: g.dwHh },
          { name: "bIh", values: bIh, grad: g.dbIh },
          { name: "bHh", values: bHh, grad: g.dbHh },
          { name: "x", values: x, grad: g.dx },
          { name: "h0", values: h0, grad: g.dh0 },
        ]);
      }
    });

    test(`${name}: two chunks with the state carried over equal one run (forward and backward)`, () => {
      const rng = new Rng(13);
      for (const [shape, split] of [
        [{ steps: 9, batch: 3, inputs: 2, hidden: 5 }, 4],
        [{ steps: 2, batch: 1, inputs: 1, hidden: 2 }, 1],
        [{ steps: 70, batch: 150, inputs: 1, hidden: 4 }, 33],
      ] as const) {
        const { steps, batch, inputs, hidden } = shape;
        const state = batch * hidden;
        const p = makeProblem(rng, shape, flagsAll);
        const zeroGrads = () => ({
          dx: new Float64Array(steps * batch * inputs),
          dwIh: new Float64Array(3 * hidden * inputs),
          dwHh: new Float64Array(3 * hidden * hidden),
          dbIh: new Float64Array(3 * hidden),
          dbHh: new Float64Array(3 * hidden),
          dh0: new Float64Array(state),
        });
        const weights = { wIh: p.wIh, wHh: p.wHh, bIh: p.bIh, bHh: p.bHh };

        // Whole sequence.
        const h = new Float64Array(steps * state);
        const gates = new Float64Array(3 * steps * state);
        const hn = new Float64Array(steps * state);
        kernels.gruForward({ h, gates, hn, x: p.x, ...weights, h0: p.h0 }, shape);
        const whole = zeroGrads();
        kernels.gruBackward(
          { ...whole, dh: p.dh, dhT: p.dhT, x: p.x, wIh: p.wIh, wHh: p.wHh, h, gates, hn, h0: p.h0 },
          shape,
        );

        // Two chunks: steps [0, split) and [split, steps).
        const first = { ...shape, steps: split };
        const second = { ...shape, steps: steps - split };
        const rowsAt = (t: number, width: number) => t * batch * width;
        const view = (a: Float64Array, t0: number, t1: number, width: number) =>
          a.subarray(rowsAt(t0, width), rowsAt(t1, width));
        const h2 = new Float64Array(steps * state);
        const gates2 = new Float64Array(3 * steps * state);
        const hn2 = new Float64Array(steps * state);
        const part = (t0: number, t1: number) => ({
          h: view(h2, t0, t1, hidden),
          gates: view(gates2, t0, t1, 3 * hidden),
          hn: view(hn2, t0, t1, hidden),
          x: view(p.x, t0, t1, inputs),
        });
        const a = part(0, split);
        const b = part(split, steps);
        kernels.gruForward({ ...a, ...weights, h0: p.h0 }, first);
        // The second chunk starts from the first chunk's final state.
        const secondH0 = h2.slice(rowsAt(split - 1, hidden), rowsAt(split, hidden));
        kernels.gruForward({ ...b, ...weights, h0: secondH0 }, second);
        assert.deepEqual(h2, h, "h");
        assert.deepEqual(gates2, gates, "gates");
        assert.deepEqual(hn2, hn, "hn");

        const chunked = zeroGrads();
        const dhMid = new Float64Array(state);
        const common = { dwIh: chunked.dwIh, dwHh: chunked.dwHh, dbIh: chunked.dbIh, dbHh: chunked.dbHh };
        kernels.gruBackward(
          {
            ...common,
            dx: view(chunked.dx, split, steps, inputs),
            dh0: dhMid,
            dh: view(p.dh, split, steps, hidden),
            dhT: p.dhT,
            wIh: p.wIh,
            wHh: p.wHh,
            ...b,
            h0: secondH0,
          },
          second,
        );
        kernels.gruBackward(
          {
            ...common,
            dx: view(chunked.dx, 0, split, inputs),
            dh0: chunked.dh0,
            dh: view(p.dh, 0, split, hidden),
            dhT: dhMid,
            wIh: p.wIh,
            wHh: p.wHh,
            ...a,
            h0: p.h0,
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

    test(`${name}: hand-computed hidden-1 case pins the gate order (r, z, n) and where b_hn goes`, () => {
      const shape = { steps: 2, batch: 1, inputs: 1, hidden: 1 };
      // Rows r, z, n.
      const wIh = Float64Array.of(0.5, -0.25, 1.0);
      const wHh = Float64Array.of(0.1, 0.2, -0.3);
      const bIh = Float64Array.of(0.01, 0.02, 0.03);
      const bHh = Float64Array.of(0.1, 0.2, 0.3);
      const x = Float64Array.of(1, -2);
      const h0 = Float64Array.of(0.5);
      const s = (v: number) => 1 / (1 + Math.exp(-v));
      // Step 1: x = 1, h = 0.5.
      const r1 = s(0.5 * 1 + 0.01 + 0.1 * 0.5 + 0.1); // s(0.66)
      const z1 = s(-0.25 * 1 + 0.02 + 0.2 * 0.5 + 0.2); // s(0.07)
      const hn1 = -0.3 * 0.5 + 0.3; // 0.15: b_hn sits inside r * (...)
      const n1 = Math.tanh(1.0 * 1 + 0.03 + r1 * hn1);
      const h1 = (1 - z1) * n1 + z1 * 0.5;
      // Step 2: x = -2, h = h1.
      const r2 = s(0.5 * -2 + 0.01 + 0.1 * h1 + 0.1);
      const z2 = s(-0.25 * -2 + 0.02 + 0.2 * h1 + 0.2);
      const hn2 = -0.3 * h1 + 0.3;
      const n2 = Math.tanh(1.0 * -2 + 0.03 + r2 * hn2);
      const h2 = (1 - z2) * n2 + z2 * h1;

      const h = new Float64Array(2);
      const gates = new Float64Array(6);
      const hn = new Float64Array(2);
      kernels.gruForward({ h, gates, hn, x, wIh, wHh, bIh, bHh, h0 }, shape);
      assertClose(h, [h1, h2], { atol: 1e-15, rtol: 1e-14, what: "h" });
      assertClose(hn, [hn1, hn2], { atol: 1e-15, rtol: 1e-14, what: "hn" });
      assertClose(gates, [r1, z1, n1, r2, z2, n2], { atol: 1e-15, rtol: 1e-14, what: "gates" });
      // PyTorch 1.13 nn.GRU(1, 1).double() with these weights and h0 = 0.5.
      assertClose(h, [0.6498853924282323, 0.16801228022554715], {
        atol: 1e-14,
        rtol: 1e-13,
        what: "h vs PyTorch",
      });

      // Loss = h1 + h2: its PyTorch gradients.
      const g = {
        dx: new Float64Array(2),
        dwIh: new Float64Array(3),
        dwHh: new Float64Array(3),
        dbIh: new Float64Array(3),
        dbHh: new Float64Array(3),
        dh0: new Float64Array(1),
      };
      kernels.gruBackward(
        { ...g, dh: Float64Array.of(1, 1), dhT: null, x, wIh, wHh, h, gates, hn, h0 },
        shape,
      );
      const expected = {
        dwIh: [0.008783334436379832, -0.8121397793344189, 0.24447952863008426],
        dwHh: [0.005266752246103542, 0.15090197206558142, 0.10102133675751845],
        dbIh: [0.010374508645078738, 0.2006066773992752, 0.31598525765490004],
        dbHh: [0.010374508645078738, 0.2006066773992752, 0.19986555220010782],
        dx: [0.33131594197904, -0.060295099351419454],
        dh0: [0.8296765107533925],
      };
      for (const n of gradNames)
        assertClose(g[n], expected[n], { atol: 1e-14, rtol: 1e-13, what: `${n} vs PyTorch` });
    });
  }

  test("js: scratch reuse across calls of different shapes leaves results unchanged", () => {
    const rng = new Rng(14);
    const small = makeProblem(rng, { steps: 5, batch: 3, inputs: 2, hidden: 3 }, flagsAll);
    const big = makeProblem(rng, { steps: 40, batch: 9, inputs: 1, hidden: 12 }, flagsAll);
    const first = runBackward(fast, small, as64);
    runBackward(fast, big, as64);
    const again = runBackward(fast, small, as64);
    for (const n of ["h", "gates", "hn", ...gradNames] as const) assert.deepEqual(again[n], first[n], n);
  });
});
