/**
 * Parsers of command-line option values shared by every `flowlens` command (commander's argParser
 * functions): each returns the number or throws commander's `InvalidArgumentError` naming the option.
 *
 * @module
 */
import { InvalidArgumentError } from 'commander';

/** An integer ≥ `min`. @throws InvalidArgumentError naming `what` and the value. */
export const intAtLeast =
  (what: string, min: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };

/** A positive integer. @throws InvalidArgumentError naming `what` and the value. */
export const positiveInt =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got "${v}"`);
    return n;
  };

/** A non-negative integer. @throws InvalidArgumentError naming `what` and the value. */
export const nonNegativeInt =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer, got "${v}"`);
    return n;
  };

/** Any integer. @throws InvalidArgumentError naming `what` and the value. */
export const integer =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${what} must be an integer, got "${v}"`);
    return n;
  };

/** A number > 0. @throws InvalidArgumentError naming `what` and the value. */
export const positiveNumber =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!(n > 0)) throw new InvalidArgumentError(`${what} must be a positive number, got "${v}"`);
    return n;
  };

/** A number in the open interval (0, 1). @throws InvalidArgumentError naming `what` and the value. */
export const openUnitInterval =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`${what} must be in (0, 1), got "${v}"`);
    return n;
  };

/** A probability in the half-open interval [0, 1) (e.g. a dropout rate). @throws InvalidArgumentError naming `what` and the value. */
export const probabilityBelowOne =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`${what} must be in [0, 1), got "${v}"`);
    return n;
  };

/**
 * A random seed: an integer in 0 … 2³² − 1 (the generators take 32-bit seeds), as every command's
 * `--seed`. @throws InvalidArgumentError naming `what` and the value (never a NaN seed).
 */
export const seed =
  (what = '--seed') =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new InvalidArgumentError(`${what} must be an integer in 0..4294967295, got "${v}"`);
    return n;
  };
