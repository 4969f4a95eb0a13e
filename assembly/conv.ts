/*
 * WebAssembly SIMD twin of src/runtime/kernels.ts `convBlock` (AssemblyScript; built by `npm run build:wasm`
 * into src/runtime/wasm/kernels-wasm.ts). Every pointer is a byte address in the imported memory; strides and
 * sizes count float32s. No allocation, no runtime objects: the module only exports plain functions.
 *
 * Layout as the JS kernel: channel c of a signal at base + (c * stride + t) * 4. Vectorised over time: four
 * output rows x eight frames (eight f32x4 accumulators) stay in registers over all (channel, tap) pairs, so
 * each pair costs two input loads, four weight splats and eight multiply-adds, and each output is written
 * once. Sums run in float32 (the JS kernel sums groups of four products in float64).
 */

/**
 * out[o, t] (+)= bias[o] + sum_{j, k} w[o, j, k] inp[g * inPer + j, t + k * dilation]  (o in group g), t < frames.
 * out: address of output row 0, frame 0; inp: address of input row 0 at the OLDEST tap of output frame 0;
 * w [outChannels, inChannels / groups, kernelSize]; bias [outChannels] or 0 for none; accumulate != 0 adds.
 */
export function convBlock(
  out: usize,
  outStride: i32,
  inp: usize,
  inStride: i32,
  w: usize,
  bias: usize,
  inChannels: i32,
  outChannels: i32,
  kernelSize: i32,
  dilation: i32,
  groups: i32,
  frames: i32,
  accumulate: i32,
): void {
  const inPer = inChannels / groups;
  const outPer = outChannels / groups;
  const ob = (<usize>outStride) << 2;
  const ib = (<usize>inStride) << 2;
  const db = (<usize>dilation) << 2;
  const wb = (<usize>(inPer * kernelSize)) << 2;
  for (let g = 0; g < groups; g++) {
    const inBase = inp + <usize>(g * inPer) * ib;
    const oEnd = (g + 1) * outPer;
    let o = g * outPer;
    for (; o + 4 <= oEnd; o += 4) {
      const b: usize = bias === 0 ? 0 : bias + ((<usize>o) << 2);
      rows4(
        out + <usize>o * ob,
        ob,
        inBase,
        ib,
        db,
        w + <usize>o * wb,
        wb,
        b,
        inPer,
        kernelSize,
        frames,
        accumulate,
      );
    }
    for (; o < oEnd; o++) {
      const b: usize = bias === 0 ? 0 : bias + ((<usize>o) << 2);
      rows1(out + <usize>o * ob, inBase, ib, db, w + <usize>o * wb, b, inPer, kernelSize, frames, accumulate);
    }
  }
}

/** Four output rows (r0 + q * ob) with filters at w0 + q * wb and biases at bias + 4 q (bias 0: none). */
function rows4(
  r0: usize,
  ob: usize,
  inBase: usize,
  ib: usize,
  db: usize,
  w0: usize,
  wb: usize,
  bias: usize,
  inPer: i32,
  kernelSize: i32,
  frames: i32,
  accumulate: i32,
): void {
  const r1 = r0 + ob;
  const r2 = r1 + ob;
  const r3 = r2 + ob;
  const w1 = w0 + wb;
  const w2 = w1 + wb;
  const w3 = w2 + wb;
  const s0: f32 = bias === 0 ? 0 : load<f32>(bias);
  const s1: f32 = bias === 0 ? 0 : load<f32>(bias, 4);
  const s2: f32 = bias === 0 ? 0 : load<f32>(bias, 8);
  const s3: f32 = bias === 0 ? 0 : load<f32>(bias, 12);
  const b0 = f32x4.splat(s0);
  const b1 = f32x4.splat(s1);
  const b2 = f32x4.splat(s2);
  const b3 = f32x4.splat(s3);
  let t = 0;
  for (; t + 8 <= frames; t += 8) {
    const tb = (<usize>t) << 2;
    let a0 = b0;
    let a0h = b0;
    let a1 = b1;
    let a1h = b1;
    let a2 = b2;
    let a2h = b2;
    let a3 = b3;
    let a3h = b3;
    if (accumulate) {
      a0 = f32x4.add(v128.load(r0 + tb), b0);
      a0h = f32x4.add(v128.load(r0 + tb, 16), b0);
      a1 = f32x4.add(v128.load(r1 + tb), b1);
      a1h = f32x4.add(v128.load(r1 + tb, 16), b1);
      a2 = f32x4.add(v128.load(r2 + tb), b2);
      a2h = f32x4.add(v128.load(r2 + tb, 16), b2);
      a3 = f32x4.add(v128.load(r3 + tb), b3);
      a3h = f32x4.add(v128.load(r3 + tb, 16), b3);
    }
    let wp: usize = 0;
    for (let c = 0; c < inPer; c++) {
      let p = inBase + <usize>c * ib + tb;
      for (let k = 0; k < kernelSize; k++) {
        const x = v128.load(p);
        const xh = v128.load(p, 16);
        let v = v128.load32_splat(w0 + wp);
        a0 = f32x4.add(a0, f32x4.mul(v, x));
        a0h = f32x4.add(a0h, f32x4.mul(v, xh));
        v = v128.load32_splat(w1 + wp);
        a1 = f32x4.add(a1, f32x4.mul(v, x));
        a1h = f32x4.add(a1h, f32x4.mul(v, xh));
        v = v128.load32_splat(w2 + wp);
        a2 = f32x4.add(a2, f32x4.mul(v, x));
        a2h = f32x4.add(a2h, f32x4.mul(v, xh));
        v = v128.load32_splat(w3 + wp);
        a3 = f32x4.add(a3, f32x4.mul(v, x));
        a3h = f32x4.add(a3h, f32x4.mul(v, xh));
        p += db;
        wp += 4;
      }
    }
    v128.store(r0 + tb, a0);
    v128.store(r0 + tb, a0h, 16);
    v128.store(r1 + tb, a1);
    v128.store(r1 + tb, a1h, 16);
    v128.store(r2 + tb, a2);
    v128.store(r2 + tb, a2h, 16);
    v128.store(r3 + tb, a3);
    v128.store(r3 + tb, a3h, 16);
  }
  for (; t + 4 <= frames; t += 4) {
    const tb = (<usize>t) << 2;
    let a0 = b0;
    let a1 = b1;
    let a2 = b2;
    let a3 = b3;
    if (accumulate) {
      a0 = f32x4.add(v128.load(r0 + tb), b0);
      a1 = f32x4.add(v128.load(r1 + tb), b1);
      a2 = f32x4.add(v128.load(r2 + tb), b2);
      a3 = f32x4.add(v128.load(r3 + tb), b3);
    }
    let wp: usize = 0;
    for (let c = 0; c < inPer; c++) {
      let p = inBase + <usize>c * ib + tb;
      for (let k = 0; k < kernelSize; k++) {
        const x = v128.load(p);
        a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(w0 + wp), x));
        a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(w1 + wp), x));
        a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(w2 + wp), x));
        a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(w3 + wp), x));
        p += db;
        wp += 4;
      }
    }
    v128.store(r0 + tb, a0);
    v128.store(r1 + tb, a1);
    v128.store(r2 + tb, a2);
    v128.store(r3 + tb, a3);
  }
  for (; t < frames; t++) {
    const tb = (<usize>t) << 2;
    scalarRow(r0 + tb, inBase + tb, ib, db, w0, s0, inPer, kernelSize, accumulate);
    scalarRow(r1 + tb, inBase + tb, ib, db, w1, s1, inPer, kernelSize, accumulate);
    scalarRow(r2 + tb, inBase + tb, ib, db, w2, s2, inPer, kernelSize, accumulate);
    scalarRow(r3 + tb, inBase + tb, ib, db, w3, s3, inPer, kernelSize, accumulate);
  }
}

/** One output row: sixteen, then four frames per pass, then single frames. */
function rows1(
  r0: usize,
  inBase: usize,
  ib: usize,
  db: usize,
  w0: usize,
  bias: usize,
  inPer: i32,
  kernelSize: i32,
  frames: i32,
  accumulate: i32,
): void {
  const s0: f32 = bias === 0 ? 0 : load<f32>(bias);
  const b0 = f32x4.splat(s0);
  let t = 0;
  for (; t + 16 <= frames; t += 16) {
    const tb = (<usize>t) << 2;
    let a0 = b0;
    let a1 = b0;
    let a2 = b0;
    let a3 = b0;
    if (accumulate) {
      a0 = f32x4.add(v128.load(r0 + tb), b0);
      a1 = f32x4.add(v128.load(r0 + tb, 16), b0);
      a2 = f32x4.add(v128.load(r0 + tb, 32), b0);
      a3 = f32x4.add(v128.load(r0 + tb, 48), b0);
    }
    let wp: usize = 0;
    for (let c = 0; c < inPer; c++) {
      let p = inBase + <usize>c * ib + tb;
      for (let k = 0; k < kernelSize; k++) {
        const v = v128.load32_splat(w0 + wp);
        a0 = f32x4.add(a0, f32x4.mul(v, v128.load(p)));
        a1 = f32x4.add(a1, f32x4.mul(v, v128.load(p, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v, v128.load(p, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v, v128.load(p, 48)));
        p += db;
        wp += 4;
      }
    }
    v128.store(r0 + tb, a0);
    v128.store(r0 + tb, a1, 16);
    v128.store(r0 + tb, a2, 32);
    v128.store(r0 + tb, a3, 48);
  }
  for (; t + 4 <= frames; t += 4) {
    const tb = (<usize>t) << 2;
    let a0 = accumulate ? f32x4.add(v128.load(r0 + tb), b0) : b0;
    let wp: usize = 0;
    for (let c = 0; c < inPer; c++) {
      let p = inBase + <usize>c * ib + tb;
      for (let k = 0; k < kernelSize; k++) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(w0 + wp), v128.load(p)));
        p += db;
        wp += 4;
      }
    }
    v128.store(r0 + tb, a0);
  }
  for (; t < frames; t++) {
    const tb = (<usize>t) << 2;
    scalarRow(r0 + tb, inBase + tb, ib, db, w0, s0, inPer, kernelSize, accumulate);
  }
}

/** One output sample at address o (input at the oldest tap x): the remainder frames. */
function scalarRow(
  o: usize,
  x: usize,
  ib: usize,
  db: usize,
  w0: usize,
  s0: f32,
  inPer: i32,
  kernelSize: i32,
  accumulate: i32,
): void {
  let a: f32 = accumulate ? load<f32>(o) + s0 : s0;
  let wp: usize = 0;
  for (let c = 0; c < inPer; c++) {
    let p = x + <usize>c * ib;
    for (let k = 0; k < kernelSize; k++) {
      a += load<f32>(w0 + wp) * load<f32>(p);
      p += db;
      wp += 4;
    }
  }
  store<f32>(o, a);
}

/** 1 when the module instantiated (a cheap call for the availability check). */
export function ready(): i32 {
  return 1;
}
