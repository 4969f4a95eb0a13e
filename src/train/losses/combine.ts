import { z } from "zod";
import { OptionError } from "../../core/errors.ts";
import { parseOptions } from "../../core/options.ts";
import { type Criterion, type LossBase, RowLoss, SumLoss } from "./base.ts";
import {
  dcBackward,
  dcForward,
  esrBackward,
  esrForward,
  l1Backward,
  l1Forward,
  mseBackward,
  mseForward,
} from "./basic.ts";
import { aWeightingFilter, type FirFilter, foldedDifferentiatorFilter, highpassFilter } from "./filters.ts";
import { DEFAULT_RESOLUTIONS, MultiResolutionStft } from "./stft.ts";
import type { Loss, LossConfig, LossType, PreEmphasisConfig } from "./types.ts";

const LOSS_TYPES: readonly LossType[] = ["mse", "l1", "esr", "dc", "mrstft", "sum"];
const PRE_EMPHASIS_TYPES: readonly PreEmphasisConfig["type"][] = ["highpass", "folded", "aweighting"];

const maskFirst = z
  .number()
  .int()
  .min(0)
  .default(0)
  .describe("samples at the start of every row that carry no loss (receptive field / burn-in), < row length");
const preEmphasis = z
  .record(z.string(), z.unknown())
  .optional()
  .describe("filter applied to prediction and target first: { type: highpass | folded | aweighting, ... }");
const eps = z.number().positive().max(1).default(1e-8).describe("added to the target's mean square");

const plainSchema = (type: "mse" | "l1") => z.strictObject({ type: z.literal(type), maskFirst, preEmphasis });
const ratioSchema = (type: "esr" | "dc") =>
  z.strictObject({ type: z.literal(type), maskFirst, preEmphasis, eps });

const isPowerOfTwo = (n: number): boolean => n >= 4 && (n & (n - 1)) === 0;
const sizes = (what: string, fallback: number[]) =>
  z.array(z.number().int().min(1).max(65536)).min(1).max(16).default(fallback).describe(what);

const mrstftSchema = z
  .strictObject({
    type: z.literal("mrstft"),
    maskFirst,
    preEmphasis,
    fftSizes: sizes(
      "FFT sizes, powers of two >= 4",
      DEFAULT_RESOLUTIONS.map((r) => r.fftSize),
    ),
    hopSizes: sizes(
      "hop sizes in samples, one per FFT size",
      DEFAULT_RESOLUTIONS.map((r) => r.hopSize),
    ),
    windowLengths: sizes(
      "Hann window lengths in samples, <= the FFT size",
      DEFAULT_RESOLUTIONS.map((r) => r.windowLength),
    ),
    spectralConvergenceWeight: z.number().min(0).default(1).describe("weight of ||Y - X||_F / ||Y||_F"),
    logMagnitudeWeight: z.number().min(0).default(1).describe("weight of mean |log Y - log X|"),
    eps: z.number().positive().max(1).default(1e-8).describe("floor of re^2 + im^2 before the square root"),
  })
  .superRefine((o, ctx) => {
    o.fftSizes.forEach((size, i) => {
      if (!isPowerOfTwo(size)) {
        ctx.addIssue({ code: "custom", path: ["fftSizes", i], message: "expected a power of two >= 4" });
      }
    });
    for (const field of ["hopSizes", "windowLengths"] as const) {
      if (o[field].length !== o.fftSizes.length) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `expected ${o.fftSizes.length} values (one per FFT size)`,
        });
      }
    }
    o.windowLengths.forEach((length, i) => {
      const fftSize = o.fftSizes[i];
      if (fftSize !== undefined && length > fftSize) {
        ctx.addIssue({
          code: "custom",
          path: ["windowLengths", i],
          message: `expected at most the FFT size ${fftSize}`,
        });
      }
    });
    if (o.spectralConvergenceWeight === 0 && o.logMagnitudeWeight === 0) {
      ctx.addIssue({ code: "custom", path: ["logMagnitudeWeight"], message: "both term weights are 0" });
    }
  });

const sumSchema = z.strictObject({
  type: z.literal("sum"),
  maskFirst,
  terms: z.array(z.unknown()).min(1).describe("[{ weight, loss }, ...]"),
});

const termSchema = z.strictObject({
  weight: z.number().min(0).describe("weight of this term, >= 0"),
  loss: z.record(z.string(), z.unknown()).describe("the term's loss config"),
});

const highpassSchema = (type: "highpass" | "folded") =>
  z.strictObject({
    type: z.literal(type),
    coefficient: z.number().min(0).max(1).default(0.85).describe("a in x[n] - a x[n - d], 0..1"),
  });

const aWeightingSchema = z.strictObject({
  type: z.literal("aweighting"),
  sampleRate: z.number().int().min(8000).max(384000).default(48000).describe("sample rate in Hz"),
  taps: z
    .number()
    .int()
    .min(3)
    .max(1023)
    .refine((n) => n % 2 === 1, { message: "expected an odd number" })
    .default(101)
    .describe("FIR length, odd (auraloss: 101)"),
});

/**
 * Builds a loss from its JSON config, validating every field (OptionError naming the field and what came):
 *   { type: "esr" }
 *   { type: "mse", maskFirst: 4095 }
 *   { type: "mrstft", fftSizes: [1024, 2048, 512], hopSizes: [120, 240, 50], windowLengths: [600, 1200, 240] }
 *   { type: "sum", terms: [
 *       { weight: 1, loss: { type: "esr", preEmphasis: { type: "highpass", coefficient: 0.85 } } },
 *       { weight: 1, loss: { type: "dc" } } ] }
 * Types: mse, l1 (mean absolute error), esr, dc, mrstft (multi-resolution STFT), sum (weighted sum).
 * Every single loss takes `maskFirst` and `preEmphasis`; see the kernels in basic.ts / stft.ts for formulas.
 */
export function createLoss(config: LossConfig): Loss {
  return build(config, "loss");
}

function build(config: unknown, path: string): LossBase {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new OptionError(
      "options/invalid",
      `${path}: expected a loss config object, got ${JSON.stringify(config)}`,
    );
  }
  const type = (config as { type?: unknown }).type;
  const what = `${path} (${String(type)})`;
  switch (type) {
    case "mse":
    case "l1": {
      const o = parseOptions(plainSchema(type), config, what);
      const filter = parsePreEmphasis(o.preEmphasis, `${path}.preEmphasis`);
      const criterion: Criterion =
        type === "mse" ? basicCriterion(mseForward, mseBackward) : basicCriterion(l1Forward, l1Backward);
      return new RowLoss(
        rowName(type, filter, o.maskFirst),
        criterion,
        filter?.filter ?? null,
        o.maskFirst,
        () => withFilter({ type, maskFirst: o.maskFirst }, filter),
      );
    }
    case "esr":
    case "dc": {
      const o = parseOptions(ratioSchema(type), config, what);
      const filter = parsePreEmphasis(o.preEmphasis, `${path}.preEmphasis`);
      const criterion = type === "esr" ? esrCriterion(o.eps) : dcCriterion(o.eps);
      return new RowLoss(
        rowName(type, filter, o.maskFirst),
        criterion,
        filter?.filter ?? null,
        o.maskFirst,
        () => withFilter({ type, maskFirst: o.maskFirst, eps: o.eps }, filter),
      );
    }
    case "mrstft": {
      const o = parseOptions(mrstftSchema, config, what);
      const filter = parsePreEmphasis(o.preEmphasis, `${path}.preEmphasis`);
      const resolutions = o.fftSizes.map((fftSize, i) => ({
        fftSize,
        hopSize: o.hopSizes[i]!,
        windowLength: o.windowLengths[i]!,
      }));
      const stft = new MultiResolutionStft(
        resolutions,
        o.spectralConvergenceWeight,
        o.logMagnitudeWeight,
        o.eps,
      );
      const criterion: Criterion = {
        minLength: stft.maxFftSize,
        tooShort: (n) =>
          `fftSizes: rows of ${n} samples (after maskFirst) are shorter than the largest FFT size ${stft.maxFftSize}`,
        forward: (x, y, rows, n) => stft.forward(x, y, rows, n),
        backward: (gx, _x, _y, rows, n) => stft.backward(gx, rows, n),
      };
      return new RowLoss(
        rowName("mrstft", filter, o.maskFirst),
        criterion,
        filter?.filter ?? null,
        o.maskFirst,
        () =>
          withFilter(
            {
              type: "mrstft",
              maskFirst: o.maskFirst,
              fftSizes: [...o.fftSizes],
              hopSizes: [...o.hopSizes],
              windowLengths: [...o.windowLengths],
              spectralConvergenceWeight: o.spectralConvergenceWeight,
              logMagnitudeWeight: o.logMagnitudeWeight,
              eps: o.eps,
            },
            filter,
          ),
      );
    }
    case "sum": {
      const o = parseOptions(sumSchema, config, what);
      const terms = o.terms.map((term, i) => {
        const termPath = `${path}.terms[${i}]`;
        const t = parseOptions(termSchema, term, termPath);
        return { weight: t.weight, loss: build(t.loss, `${termPath}.loss`) };
      });
      return new SumLoss(terms, o.maskFirst);
    }
    default:
      throw new OptionError(
        "options/invalid",
        `${path}: type: expected one of ${LOSS_TYPES.map((t) => `"${t}"`).join(", ")}, got ${JSON.stringify(type)}`,
      );
  }
}

interface ParsedFilter {
  filter: FirFilter;
  config: PreEmphasisConfig;
  label: string;
}

function parsePreEmphasis(input: Record<string, unknown> | undefined, path: string): ParsedFilter | null {
  if (input === undefined) return null;
  const type = input["type"];
  const what = `${path} (${String(type)})`;
  switch (type) {
    case "highpass":
    case "folded": {
      const o = parseOptions(highpassSchema(type), input, what);
      const filter =
        type === "highpass" ? highpassFilter(o.coefficient) : foldedDifferentiatorFilter(o.coefficient);
      return { filter, config: { type, coefficient: o.coefficient }, label: `${type}(${o.coefficient})` };
    }
    case "aweighting": {
      const o = parseOptions(aWeightingSchema, input, what);
      return {
        filter: aWeightingFilter(o.sampleRate, o.taps),
        config: { type, sampleRate: o.sampleRate, taps: o.taps },
        label: `aweighting(${o.sampleRate} Hz, ${o.taps} taps)`,
      };
    }
    default:
      throw new OptionError(
        "options/invalid",
        `${path}: type: expected one of ${PRE_EMPHASIS_TYPES.map((t) => `"${t}"`).join(", ")}, got ${JSON.stringify(type)}`,
      );
  }
}

function rowName(type: string, filter: ParsedFilter | null, mask: number): string {
  return type + (filter ? `+${filter.label}` : "") + (mask > 0 ? `[mask ${mask}]` : "");
}

function withFilter<T extends LossConfig>(config: T, filter: ParsedFilter | null): T {
  // A fresh copy each call, so callers may mutate what toConfig returns.
  return filter ? { ...config, preEmphasis: { ...filter.config } } : config;
}

type Kernel = (x: Float64Array, y: Float64Array, rows: number, n: number) => number;
type GradientKernel = (gx: Float64Array, x: Float64Array, y: Float64Array, rows: number, n: number) => void;

function basicCriterion(forward: Kernel, backward: GradientKernel): Criterion {
  return { minLength: 1, tooShort: () => "", forward, backward };
}

function esrCriterion(epsilon: number): Criterion {
  const stats = new Float64Array(1);
  return {
    minLength: 1,
    tooShort: () => "",
    forward: (x, y, rows, n) => esrForward(x, y, rows, n, epsilon, stats),
    backward: (gx, x, y, rows, n) => esrBackward(gx, x, y, rows, n, stats[0]!),
  };
}

function dcCriterion(epsilon: number): Criterion {
  const stats = new Float64Array(1);
  let means = new Float64Array(0);
  return {
    minLength: 1,
    tooShort: () => "",
    forward: (x, y, rows, n) => {
      if (means.length < rows) means = new Float64Array(rows);
      return dcForward(x, y, rows, n, epsilon, means, stats);
    },
    backward: (gx, _x, _y, rows, n) => dcBackward(gx, rows, n, means, stats[0]!),
  };
}
