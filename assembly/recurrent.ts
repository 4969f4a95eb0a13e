/*
 * WebAssembly SIMD twins of src/nn/kernels/js/lstm.ts and gru.ts for training (AssemblyScript; built by
 * `npm run build:wasm`; wrappers in src/nn/kernels/wasm/recurrent.ts). Pointers are byte addresses in the
 * imported memory; counts are floats. A call runs the time loop over all the steps it is given (the wrapper
 * gives it windows of tens to hundreds of steps that fit in L2): no per-step calls from JS.
 *
 * Vectorised over hidden units: one f32x4 holds one gate of four consecutive units of one sequence, so every lane
 * is useful for any batch (1 or 256) once hidden is a multiple of 4. Hidden sizes that are not are padded to
 * hp = hidden rounded up to 4 (the wrapper pads): padded units have zero weights, stay at h = c = 0 and get zero
 * gradients. Layouts (time-major, floats):
 *   x      [steps][batch][inputs]
 *   h, c   [steps + 1][batch][hp]: slot 0 is the initial state, slot t + 1 the state after step t, so step t reads
 *          h_{t-1} at slot t whatever t is (and the weight gradient's h_{t-1} rows are contiguous across steps);
 *          backward reads h slots 0 .. steps - 1 only
 *   gates  [steps][batch][G][hp], G = 4 (LSTM i, f, g, o after activation) or 3 (GRU r, z, n)
 *   hn     [steps][batch][hp] (GRU): W_hn h_{t-1} + b_hn
 *   dh     [steps][batch][hp]
 * The gate activations use fast f32x4 sigmoid / tanh (errors ~1e-7, see below): fine for training, which is
 * all these kernels are for.
 *
 * Backward keeps the pre-activation gradients of a chunk of steps, d [rows][4 hp] (LSTM i, f, g, o; GRU
 * r, z, hn, n as in the JS twin), and turns them into weight gradients once per chunk: float32 sums over the
 * chunk's rows (a few hundred), added into float64 accumulators, so the error does not grow with the length of
 * the sequence (measured: weight gradients within ~3e-7 of the JS twin's float64 sums over 2048 steps x 256).
 *
 * Every inner loop keeps its accumulators in registers and shares each load: pre-activations and dh propagation
 * are two sequences x four f32x4 (eight accumulators; more spill on x64's 16 registers, and unrolling measured
 * slower), weight gradients two columns x four f32x4. Without FMA (the plain SIMD 128 build, ./fma.ts) that is
 * ~0.7 instructions per multiply-add lane, and the activations (five exps per unit and step for an LSTM) cost
 * about as much again.
 */

// ---- activations ----------------------------------------------------------------------------------------

// The gate activations are ./fastmath's fast exp / sigmoid / tanh (a few float32 ulps; these kernels are
// training-only).
import { sigmoidV as sigmoidT, tanhV as tanhT } from "./fastmath";
import { madd } from "./fma";

// ---- weights --------------------------------------------------------------------------------------------

/**
 * Forward weights, one block per quad of units (4u .. 4u + 3), each entry four f32x4 "gate vectors":
 * [bias][x_p for p < inputs][h_k for k < hidden]. LSTM gate vectors i, f, g, o (bias bIh + bHh);
 * GRU r, z, hn, in: bias (b_ir + b_hr, b_iz + b_hz, b_hn, b_in), x (W_ir, W_iz, 0, W_in), h (W_hr, W_hz, W_hn, 0).
 * Inputs are the raw PyTorch arrays wIh [G hidden][inputs], wHh [G hidden][hidden], bIh, bHh [G hidden].
 */
export function rnnPackForward(
  dst: usize,
  wIh: usize,
  wHh: usize,
  bIh: usize,
  bHh: usize,
  inputs: i32,
  hidden: i32,
  hp: i32,
  gru: i32,
): void {
  const entries = 1 + inputs + hidden;
  memory.fill(dst, 0, (<usize>((hp >> 2) * entries)) << 6);
  for (let m = 0; m < hidden; m++) {
    const block = dst + ((<usize>((m >> 2) * entries)) << 6) + ((<usize>(m & 3)) << 2);
    for (let q = 0; q < 4; q++) {
      // Rows of wIh / wHh feeding lane m of gate vector q (-1: none).
      let ri = q * hidden + m;
      let rh = ri;
      if (gru) {
        if (q === 2) ri = -1;
        if (q === 3) {
          ri = 2 * hidden + m;
          rh = -1;
        }
      }
      const lane = block + ((<usize>q) << 4);
      let bias: f32 = 0;
      if (ri >= 0) bias += load<f32>(bIh + ((<usize>ri) << 2));
      if (rh >= 0) bias += load<f32>(bHh + ((<usize>rh) << 2));
      store<f32>(lane, bias);
      for (let p = 0; p < inputs; p++) {
        if (ri >= 0) store<f32>(lane + ((<usize>(1 + p)) << 6), load<f32>(wIh + ((<usize>(ri * inputs + p)) << 2)));
      }
      for (let k = 0; k < hidden; k++) {
        const at = lane + ((<usize>(1 + inputs + k)) << 6);
        if (rh >= 0) store<f32>(at, load<f32>(wHh + ((<usize>(rh * hidden + k)) << 2)));
      }
    }
  }
}

/**
 * Backward weights: wH [G hp][hp] = wHh with rows and columns padded (row q * hp + m <- q * hidden + m; G = 4 LSTM,
 * 3 GRU r, z, n, matching the gradient rows r, z, hn), and wIT [inputs][4 hp] = wIh transposed and padded to the
 * gradient rows (GRU: r, z, 0 under hn, n).
 */
export function rnnPackBackward(
  wH: usize,
  wIT: usize,
  wIh: usize,
  wHh: usize,
  inputs: i32,
  hidden: i32,
  hp: i32,
  gru: i32,
): void {
  const gates = gru ? 3 : 4;
  memory.fill(wH, 0, (<usize>(gates * hp * hp)) << 2);
  memory.fill(wIT, 0, (<usize>(inputs * 4 * hp)) << 2);
  for (let q = 0; q < gates; q++) {
    for (let m = 0; m < hidden; m++) {
      const row = q * hidden + m;
      for (let k = 0; k < hidden; k++) {
        store<f32>(wH + ((<usize>((q * hp + m) * hp + k)) << 2), load<f32>(wHh + ((<usize>(row * hidden + k)) << 2)));
      }
      const col = gru && q === 2 ? 3 * hp + m : q * hp + m;
      for (let p = 0; p < inputs; p++) {
        store<f32>(wIT + ((<usize>(p * 4 * hp + col)) << 2), load<f32>(wIh + ((<usize>(row * inputs + p)) << 2)));
      }
    }
  }
}

/**
 * dst[(q hidden + m) cols + k] += acc[k accStride + map_q hp + m] (acc float64) for q < gates, m < hidden,
 * k < cols: adds a padded, transposed float64 accumulator into a PyTorch-layout gradient. map_q = (map >> 4q) & 15
 * picks the accumulator block of gate q (GRU: the hidden side reads r, z, hn; the input side r, z, n).
 */
export function rnnAddGradient(
  dst: usize,
  acc: usize,
  gates: i32,
  hidden: i32,
  cols: i32,
  hp: i32,
  accStride: i32,
  map: i32,
): void {
  for (let q = 0; q < gates; q++) {
    const block = ((map >> (4 * q)) & 15) * hp;
    for (let m = 0; m < hidden; m++) {
      const out = dst + ((<usize>((q * hidden + m) * cols)) << 2);
      for (let k = 0; k < cols; k++) {
        const a = load<f64>(acc + ((<usize>(k * accStride + block + m)) << 3));
        store<f32>(out + ((<usize>k) << 2), <f32>(<f64>load<f32>(out + ((<usize>k) << 2)) + a));
      }
    }
  }
}

// ---- forward --------------------------------------------------------------------------------------------

/**
 * Pre-activations of two sequences (count 2) or one (count 1): pre [s][quad][4 gate vectors] = bias + W_x x_s +
 * W_h h_s for every quad. x at x (next sequence + xRow), h_{t-1} at hPrev (next sequence + rowBytes).
 * Two sequences share every weight load: eight accumulators, two splats and one weight vector in registers.
 */
function preactivations(
  pre: usize,
  w: usize,
  quads: i32,
  count: i32,
  x: usize,
  xRow: usize,
  inputs: i32,
  hPrev: usize,
  rowBytes: usize,
  hidden: i32,
): void {
  const pre1 = pre + ((<usize>quads) << 6);
  let wp = w;
  for (let u = 0; u < quads; u++) {
    let a0 = v128.load(wp);
    let a1 = v128.load(wp, 16);
    let a2 = v128.load(wp, 32);
    let a3 = v128.load(wp, 48);
    wp += 64;
    if (count === 2) {
      let e0 = a0;
      let e1 = a1;
      let e2 = a2;
      let e3 = a3;
      for (let p = 0; p < inputs; p++) {
        const xa = v128.load32_splat(x + ((<usize>p) << 2));
        const xe = v128.load32_splat(x + xRow + ((<usize>p) << 2));
        let v = v128.load(wp);
        a0 = madd(v, xa, a0);
        e0 = madd(v, xe, e0);
        v = v128.load(wp, 16);
        a1 = madd(v, xa, a1);
        e1 = madd(v, xe, e1);
        v = v128.load(wp, 32);
        a2 = madd(v, xa, a2);
        e2 = madd(v, xe, e2);
        v = v128.load(wp, 48);
        a3 = madd(v, xa, a3);
        e3 = madd(v, xe, e3);
        wp += 64;
      }
      for (let k = 0; k < hidden; k++) {
        const ha = v128.load32_splat(hPrev + ((<usize>k) << 2));
        const he = v128.load32_splat(hPrev + rowBytes + ((<usize>k) << 2));
        let v = v128.load(wp);
        a0 = madd(v, ha, a0);
        e0 = madd(v, he, e0);
        v = v128.load(wp, 16);
        a1 = madd(v, ha, a1);
        e1 = madd(v, he, e1);
        v = v128.load(wp, 32);
        a2 = madd(v, ha, a2);
        e2 = madd(v, he, e2);
        v = v128.load(wp, 48);
        a3 = madd(v, ha, a3);
        e3 = madd(v, he, e3);
        wp += 64;
      }
      const q1 = pre1 + ((<usize>u) << 6);
      v128.store(q1, e0);
      v128.store(q1, e1, 16);
      v128.store(q1, e2, 32);
      v128.store(q1, e3, 48);
    } else {
      for (let p = 0; p < inputs; p++) {
        const xa = v128.load32_splat(x + ((<usize>p) << 2));
        a0 = madd(v128.load(wp), xa, a0);
        a1 = madd(v128.load(wp, 16), xa, a1);
        a2 = madd(v128.load(wp, 32), xa, a2);
        a3 = madd(v128.load(wp, 48), xa, a3);
        wp += 64;
      }
      for (let k = 0; k < hidden; k++) {
        const ha = v128.load32_splat(hPrev + ((<usize>k) << 2));
        a0 = madd(v128.load(wp), ha, a0);
        a1 = madd(v128.load(wp, 16), ha, a1);
        a2 = madd(v128.load(wp, 32), ha, a2);
        a3 = madd(v128.load(wp, 48), ha, a3);
        wp += 64;
      }
    }
    const q0 = pre + ((<usize>u) << 6);
    v128.store(q0, a0);
    v128.store(q0, a1, 16);
    v128.store(q0, a2, 32);
    v128.store(q0, a3, 48);
  }
}

/**
 * LSTM forward over all steps. w from rnnPackForward; pre: scratch for 2 x 4 hp floats. h, c hold the initial
 * states in slot 0 on entry (see the file comment for the layouts).
 */
export function rnnLstmForward(
  w: usize,
  x: usize,
  h: usize,
  c: usize,
  gates: usize,
  pre: usize,
  steps: i32,
  batch: i32,
  inputs: i32,
  hidden: i32,
  hp: i32,
): void {
  const quads = hp >> 2;
  const rowBytes = (<usize>hp) << 2;
  const stateBytes = <usize>batch * rowBytes;
  const xRow = (<usize>inputs) << 2;
  for (let t = 0; t < steps; t++) {
    const at = <usize>t * stateBytes;
    const xt = x + <usize>(t * batch) * xRow;
    const gt = gates + (at << 2);
    for (let b = 0; b < batch; b += 2) {
      const count = b + 2 <= batch ? 2 : 1;
      const sAt = at + <usize>b * rowBytes;
      preactivations(pre, w, quads, count, xt + <usize>b * xRow, xRow, inputs, h + sAt, rowBytes, hidden);
      for (let s = 0; s < count; s++) {
        const prev = sAt + <usize>s * rowBytes;
        const next = prev + stateBytes;
        const g = gt + ((<usize>(b + s) * rowBytes) << 2);
        for (let u = 0; u < quads; u++) {
          const pv = pre + ((<usize>(s * quads + u)) << 6);
          const o16 = (<usize>u) << 4;
          const i = sigmoidT(v128.load(pv));
          const f = sigmoidT(v128.load(pv, 16));
          const gg = tanhT(v128.load(pv, 32));
          const o = sigmoidT(v128.load(pv, 48));
          const cn = f32x4.add(f32x4.mul(f, v128.load(c + prev + o16)), f32x4.mul(i, gg));
          v128.store(c + next + o16, cn);
          v128.store(h + next + o16, f32x4.mul(o, tanhT(cn)));
          v128.store(g + o16, i);
          v128.store(g + rowBytes + o16, f);
          v128.store(g + 2 * rowBytes + o16, gg);
          v128.store(g + 3 * rowBytes + o16, o);
        }
      }
    }
  }
}

/** GRU forward over all steps; h holds the initial state in slot 0; gates [steps][batch][3][hp], hn [steps][batch][hp]. */
export function rnnGruForward(
  w: usize,
  x: usize,
  h: usize,
  gates: usize,
  hn: usize,
  pre: usize,
  steps: i32,
  batch: i32,
  inputs: i32,
  hidden: i32,
  hp: i32,
): void {
  const quads = hp >> 2;
  const rowBytes = (<usize>hp) << 2;
  const stateBytes = <usize>batch * rowBytes;
  const xRow = (<usize>inputs) << 2;
  for (let t = 0; t < steps; t++) {
    const at = <usize>t * stateBytes;
    const xt = x + <usize>(t * batch) * xRow;
    const gt = gates + at * 3;
    for (let b = 0; b < batch; b += 2) {
      const count = b + 2 <= batch ? 2 : 1;
      const sAt = at + <usize>b * rowBytes;
      preactivations(pre, w, quads, count, xt + <usize>b * xRow, xRow, inputs, h + sAt, rowBytes, hidden);
      for (let s = 0; s < count; s++) {
        const prev = sAt + <usize>s * rowBytes;
        const g = gt + <usize>(b + s) * rowBytes * 3;
        for (let u = 0; u < quads; u++) {
          const pv = pre + ((<usize>(s * quads + u)) << 6);
          const o16 = (<usize>u) << 4;
          const r = sigmoidT(v128.load(pv));
          const z = sigmoidT(v128.load(pv, 16));
          const a2 = v128.load(pv, 32);
          const n = tanhT(f32x4.add(v128.load(pv, 48), f32x4.mul(r, a2)));
          // h = (1 - z) n + z h_{t-1}
          const hv = f32x4.add(n, f32x4.mul(z, f32x4.sub(v128.load(h + prev + o16), n)));
          v128.store(h + prev + stateBytes + o16, hv);
          v128.store(hn + prev + o16, a2);
          v128.store(g + o16, r);
          v128.store(g + rowBytes + o16, z);
          v128.store(g + 2 * rowBytes + o16, n);
        }
      }
    }
  }
}

// ---- backward pieces ------------------------------------------------------------------------------------

/** Adds the four float32 lanes of v to the float64s at p (16 bytes) and p + 16. */
// @ts-ignore: decorator (AssemblyScript)
@inline
function addTo64(p: usize, v: v128): void {
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
  v128.store(p, f64x2.add(v128.load(p, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))), 16);
}

/**
 * carry[b][k] += sum_{j < width} d[b][j] wH[j][k] for b < batch, k < hp: the gradient reaching h_{t-1} through the
 * recurrent weights. Vectorised over k (wH rows are contiguous); two sequences x four k vectors (sixteen units)
 * in registers share each weight load.
 */
function propagate(carry: usize, d: usize, dRow: usize, width: i32, wH: usize, batch: i32, hp: i32): void {
  const rowBytes = (<usize>hp) << 2;
  for (let b = 0; b < batch; b += 2) {
    const two = b + 2 <= batch;
    const d0 = d + <usize>b * dRow;
    const d1 = two ? d0 + dRow : d0;
    const c0 = carry + <usize>b * rowBytes;
    const c1 = c0 + rowBytes;
    let k: usize = 0;
    for (; k + 64 <= rowBytes; k += 64) {
      let a0 = f32x4.splat(0);
      let a1 = a0;
      let a2 = a0;
      let a3 = a0;
      let e0 = a0;
      let e1 = a0;
      let e2 = a0;
      let e3 = a0;
      let wp = wH + k;
      for (let j = 0; j < width; j++) {
        const jb = (<usize>j) << 2;
        const sa = v128.load32_splat(d0 + jb);
        const se = v128.load32_splat(d1 + jb);
        let v = v128.load(wp);
        a0 = madd(v, sa, a0);
        e0 = madd(v, se, e0);
        v = v128.load(wp, 16);
        a1 = madd(v, sa, a1);
        e1 = madd(v, se, e1);
        v = v128.load(wp, 32);
        a2 = madd(v, sa, a2);
        e2 = madd(v, se, e2);
        v = v128.load(wp, 48);
        a3 = madd(v, sa, a3);
        e3 = madd(v, se, e3);
        wp += rowBytes;
      }
      v128.store(c0 + k, f32x4.add(v128.load(c0 + k), a0));
      v128.store(c0 + k, f32x4.add(v128.load(c0 + k, 16), a1), 16);
      v128.store(c0 + k, f32x4.add(v128.load(c0 + k, 32), a2), 32);
      v128.store(c0 + k, f32x4.add(v128.load(c0 + k, 48), a3), 48);
      if (two) {
        v128.store(c1 + k, f32x4.add(v128.load(c1 + k), e0));
        v128.store(c1 + k, f32x4.add(v128.load(c1 + k, 16), e1), 16);
        v128.store(c1 + k, f32x4.add(v128.load(c1 + k, 32), e2), 32);
        v128.store(c1 + k, f32x4.add(v128.load(c1 + k, 48), e3), 48);
      }
    }
    for (; k < rowBytes; k += 16) {
      let a0 = f32x4.splat(0);
      let e0 = a0;
      let wp = wH + k;
      for (let j = 0; j < width; j++) {
        const jb = (<usize>j) << 2;
        const v = v128.load(wp);
        a0 = madd(v, v128.load32_splat(d0 + jb), a0);
        e0 = madd(v, v128.load32_splat(d1 + jb), e0);
        wp += rowBytes;
      }
      v128.store(c0 + k, f32x4.add(v128.load(c0 + k), a0));
      if (two) v128.store(c1 + k, f32x4.add(v128.load(c1 + k), e0));
    }
  }
}

/** dx[b][p] += sum_{j < 4 hp} d[b][j] wIT[p][j] for the rows of one step. */
function inputGradient(dx: usize, d: usize, dRow: usize, wIT: usize, batch: i32, inputs: i32): void {
  for (let b = 0; b < batch; b++) {
    const dr = d + <usize>b * dRow;
    for (let p = 0; p < inputs; p++) {
      const wr = wIT + <usize>p * dRow;
      let s0 = f32x4.splat(0);
      let s1 = s0;
      let j: usize = 0;
      for (; j + 32 <= dRow; j += 32) {
        s0 = madd(v128.load(dr + j), v128.load(wr + j), s0);
        s1 = madd(v128.load(dr + j, 16), v128.load(wr + j, 16), s1);
      }
      if (j < dRow) s0 = madd(v128.load(dr + j), v128.load(wr + j), s0);
      s0 = f32x4.add(s0, s1);
      const at = dx + ((<usize>(b * inputs + p)) << 2);
      store<f32>(
        at,
        load<f32>(at) +
          (f32x4.extract_lane(s0, 0) + f32x4.extract_lane(s0, 1) + (f32x4.extract_lane(s0, 2) + f32x4.extract_lane(s0, 3))),
      );
    }
  }
}

/**
 * acc[k][j] (float64, rows accRow bytes apart) += sum_{n < rows} src[n][k] d[n][j] for k < cols, j < width
 * (a multiple of 4): one chunk's weight gradient d^T src, stored transposed. Vectorised over j (d rows are
 * contiguous), src splatted; two columns x four j vectors of float32 accumulators in registers over the rows,
 * then one float64 add per chunk.
 */
function outer(
  acc: usize,
  accRow: usize,
  d: usize,
  dRow: usize,
  width: i32,
  src: usize,
  srcRow: usize,
  cols: i32,
  rows: i32,
): void {
  const widthBytes = (<usize>width) << 2;
  for (let k = 0; k < cols; k += 2) {
    const two = k + 1 < cols;
    const s0 = src + ((<usize>k) << 2);
    const s1 = two ? s0 + 4 : s0;
    const r0 = acc + <usize>k * accRow;
    const r1 = r0 + accRow;
    let j: usize = 0;
    for (; j + 64 <= widthBytes; j += 64) {
      let a0 = f32x4.splat(0);
      let a1 = a0;
      let a2 = a0;
      let a3 = a0;
      let e0 = a0;
      let e1 = a0;
      let e2 = a0;
      let e3 = a0;
      let dp = d + j;
      let sp: usize = 0;
      for (let n = 0; n < rows; n++) {
        const sa = v128.load32_splat(s0 + sp);
        const se = v128.load32_splat(s1 + sp);
        let v = v128.load(dp);
        a0 = madd(v, sa, a0);
        e0 = madd(v, se, e0);
        v = v128.load(dp, 16);
        a1 = madd(v, sa, a1);
        e1 = madd(v, se, e1);
        v = v128.load(dp, 32);
        a2 = madd(v, sa, a2);
        e2 = madd(v, se, e2);
        v = v128.load(dp, 48);
        a3 = madd(v, sa, a3);
        e3 = madd(v, se, e3);
        dp += dRow;
        sp += srcRow;
      }
      const j2 = j << 1;
      addTo64(r0 + j2, a0);
      addTo64(r0 + j2 + 32, a1);
      addTo64(r0 + j2 + 64, a2);
      addTo64(r0 + j2 + 96, a3);
      if (two) {
        addTo64(r1 + j2, e0);
        addTo64(r1 + j2 + 32, e1);
        addTo64(r1 + j2 + 64, e2);
        addTo64(r1 + j2 + 96, e3);
      }
    }
    for (; j < widthBytes; j += 16) {
      let a0 = f32x4.splat(0);
      let e0 = a0;
      let dp = d + j;
      let sp: usize = 0;
      for (let n = 0; n < rows; n++) {
        const v = v128.load(dp);
        a0 = madd(v, v128.load32_splat(s0 + sp), a0);
        e0 = madd(v, v128.load32_splat(s1 + sp), e0);
        dp += dRow;
        sp += srcRow;
      }
      addTo64(r0 + (j << 1), a0);
      if (two) addTo64(r1 + (j << 1), e0);
    }
  }
}

/** acc[j] (float64) += sum_{n < rows} d[n][j] for j < width (a multiple of 4): the bias gradient of one chunk. */
function columnSums(acc: usize, d: usize, dRow: usize, width: i32, rows: i32): void {
  const widthBytes = (<usize>width) << 2;
  let j: usize = 0;
  for (; j + 64 <= widthBytes; j += 64) {
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    let dp = d + j;
    for (let n = 0; n < rows; n++) {
      a0 = f32x4.add(a0, v128.load(dp));
      a1 = f32x4.add(a1, v128.load(dp, 16));
      a2 = f32x4.add(a2, v128.load(dp, 32));
      a3 = f32x4.add(a3, v128.load(dp, 48));
      dp += dRow;
    }
    addTo64(acc + (j << 1), a0);
    addTo64(acc + (j << 1) + 32, a1);
    addTo64(acc + (j << 1) + 64, a2);
    addTo64(acc + (j << 1) + 96, a3);
  }
  for (; j < widthBytes; j += 16) {
    let a0 = f32x4.splat(0);
    let dp = d + j;
    for (let n = 0; n < rows; n++) {
      a0 = f32x4.add(a0, v128.load(dp));
      dp += dRow;
    }
    addTo64(acc + (j << 1), a0);
  }
}

/**
 * The weight and bias gradients of the chunk of steps [tStart, tStart + chunkSteps): d rows against x and
 * h_{t-1} (slot t of h). accH [hp][4 hp], accI [inputs][4 hp], accB [4 hp] (float64, transposed, padded).
 */
function chunkWeights(
  accH: usize,
  accI: usize,
  accB: usize,
  d: usize,
  hiddenWidth: i32,
  x: usize,
  h: usize,
  tStart: i32,
  chunkSteps: i32,
  batch: i32,
  inputs: i32,
  hidden: i32,
  hp: i32,
): void {
  const dRow = (<usize>hp) << 4;
  const rows = chunkSteps * batch;
  const rowBytes = (<usize>hp) << 2;
  const xRow = (<usize>inputs) << 2;
  columnSums(accB, d, dRow, 4 * hp, rows);
  outer(accI, dRow << 1, d, dRow, 4 * hp, x + <usize>(tStart * batch) * xRow, xRow, inputs, rows);
  outer(accH, dRow << 1, d, dRow, hiddenWidth, h + <usize>(tStart * batch) * rowBytes, rowBytes, hidden, rows);
}

// ---- backward -------------------------------------------------------------------------------------------

/**
 * LSTM backpropagation through time. carry [2][batch][hp] holds the gradients arriving at h_T, c_T (dhT, dcT)
 * on entry and at h0, c0 on exit. d: chunk buffer of chunk x batch rows of 4 hp floats. wH, wIT from
 * rnnPackBackward. dx [steps][batch][inputs] is added into (0: not wanted). accH, accI, accB (float64, zeroed
 * by the caller) receive the weight and bias gradients, transposed and padded (see rnnAddGradient).
 */
export function rnnLstmBackward(
  d: usize,
  chunk: i32,
  carry: usize,
  dh: usize,
  x: usize,
  h: usize,
  c: usize,
  gates: usize,
  wH: usize,
  wIT: usize,
  dx: usize,
  accH: usize,
  accI: usize,
  accB: usize,
  steps: i32,
  batch: i32,
  inputs: i32,
  hidden: i32,
  hp: i32,
): void {
  const quads = hp >> 2;
  const rowBytes = (<usize>hp) << 2;
  const dRow = rowBytes << 2;
  const stateBytes = <usize>batch * rowBytes;
  const xRow = (<usize>inputs) << 2;
  const carryC = carry + stateBytes;
  for (let tEnd = steps; tEnd > 0; tEnd -= chunk) {
    const tStart = tEnd - chunk > 0 ? tEnd - chunk : 0;
    for (let t = tEnd - 1; t >= tStart; t--) {
      const at = <usize>t * stateBytes;
      const dt = d + <usize>((t - tStart) * batch) * dRow;
      for (let b = 0; b < batch; b++) {
        const sAt = <usize>b * rowBytes;
        const g = gates + ((at + sAt) << 2);
        const dr = dt + <usize>b * dRow;
        for (let u = 0; u < quads; u++) {
          const o16 = (<usize>u) << 4;
          const i = v128.load(g + o16);
          const f = v128.load(g + rowBytes + o16);
          const gg = v128.load(g + 2 * rowBytes + o16);
          const o = v128.load(g + 3 * rowBytes + o16);
          const one = f32x4.splat(1);
          // tanh(c_t) recomputed (fast tanh: cheaper than copying a saved copy in).
          const tc = tanhT(v128.load(c + at + stateBytes + sAt + o16));
          const dH = f32x4.add(v128.load(dh + at + sAt + o16), v128.load(carry + sAt + o16));
          const dC = f32x4.add(
            v128.load(carryC + sAt + o16),
            f32x4.mul(f32x4.mul(dH, o), f32x4.sub(one, f32x4.mul(tc, tc))),
          );
          const cPrev = v128.load(c + at + sAt + o16);
          v128.store(dr + o16, f32x4.mul(f32x4.mul(dC, gg), f32x4.mul(i, f32x4.sub(one, i))));
          v128.store(dr + rowBytes + o16, f32x4.mul(f32x4.mul(dC, cPrev), f32x4.mul(f, f32x4.sub(one, f))));
          v128.store(dr + 2 * rowBytes + o16, f32x4.mul(f32x4.mul(dC, i), f32x4.sub(one, f32x4.mul(gg, gg))));
          v128.store(dr + 3 * rowBytes + o16, f32x4.mul(f32x4.mul(dH, tc), f32x4.mul(o, f32x4.sub(one, o))));
          v128.store(carry + sAt + o16, f32x4.splat(0));
          v128.store(carryC + sAt + o16, f32x4.mul(dC, f));
        }
      }
      propagate(carry, dt, dRow, 4 * hp, wH, batch, hp);
      if (dx !== 0) inputGradient(dx + <usize>(t * batch) * xRow, dt, dRow, wIT, batch, inputs);
    }
    chunkWeights(accH, accI, accB, d, 4 * hp, x, h, tStart, tEnd - tStart, batch, inputs, hidden, hp);
  }
}

/**
 * GRU backpropagation through time. carry [batch][hp]: dhT on entry, the gradient at h0 on exit. Gradient rows
 * d [r, z, hn, n] (hidden side r, z, hn against wH rows r, z, n; input side r, z, n). Otherwise as rnnLstmBackward.
 */
export function rnnGruBackward(
  d: usize,
  chunk: i32,
  carry: usize,
  dh: usize,
  x: usize,
  h: usize,
  gates: usize,
  hn: usize,
  wH: usize,
  wIT: usize,
  dx: usize,
  accH: usize,
  accI: usize,
  accB: usize,
  steps: i32,
  batch: i32,
  inputs: i32,
  hidden: i32,
  hp: i32,
): void {
  const quads = hp >> 2;
  const rowBytes = (<usize>hp) << 2;
  const dRow = rowBytes << 2;
  const stateBytes = <usize>batch * rowBytes;
  const xRow = (<usize>inputs) << 2;
  for (let tEnd = steps; tEnd > 0; tEnd -= chunk) {
    const tStart = tEnd - chunk > 0 ? tEnd - chunk : 0;
    for (let t = tEnd - 1; t >= tStart; t--) {
      const at = <usize>t * stateBytes;
      const dt = d + <usize>((t - tStart) * batch) * dRow;
      for (let b = 0; b < batch; b++) {
        const sAt = <usize>b * rowBytes;
        const g = gates + (at + sAt) * 3;
        const dr = dt + <usize>b * dRow;
        for (let u = 0; u < quads; u++) {
          const o16 = (<usize>u) << 4;
          const r = v128.load(g + o16);
          const z = v128.load(g + rowBytes + o16);
          const n = v128.load(g + 2 * rowBytes + o16);
          const one = f32x4.splat(1);
          const dH = f32x4.add(v128.load(dh + at + sAt + o16), v128.load(carry + sAt + o16));
          const dN = f32x4.mul(f32x4.mul(dH, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
          const hPrev = v128.load(h + at + sAt + o16);
          const hnv = v128.load(hn + at + sAt + o16);
          v128.store(dr + o16, f32x4.mul(f32x4.mul(dN, hnv), f32x4.mul(r, f32x4.sub(one, r))));
          v128.store(
            dr + rowBytes + o16,
            f32x4.mul(f32x4.mul(dH, f32x4.sub(hPrev, n)), f32x4.mul(z, f32x4.sub(one, z))),
          );
          v128.store(dr + 2 * rowBytes + o16, f32x4.mul(dN, r));
          v128.store(dr + 3 * rowBytes + o16, dN);
          v128.store(carry + sAt + o16, f32x4.mul(dH, z));
        }
      }
      propagate(carry, dt, dRow, 3 * hp, wH, batch, hp);
      if (dx !== 0) inputGradient(dx + <usize>(t * batch) * xRow, dt, dRow, wIT, batch, inputs);
    }
    chunkWeights(accH, accI, accB, d, 3 * hp, x, h, tStart, tEnd - tStart, batch, inputs, hidden, hp);
  }
}
