/**
 * Small seeded pseudo-random number generators for reproducible data generation and sampling.
 *
 * `mulberry32` (Tommy Ettinger's 32-bit generator, public domain) is fast, has a period of 2^32 and is
 * good enough for picking template words and shuffling; it is not for cryptography.
 *
 * @module
 */

/**
 * mulberry32: a seeded generator of uniform floats in [0, 1).
 *
 * @param seed any number; only its low 32 bits are used (`seed >>> 0`).
 * @returns a function returning the next float in [0, 1) on each call (2^32 possible values).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Hashes a string to a 32-bit seed (FNV-1a), so that e.g. per-construction streams can be seeded from a
 * name and a base seed.
 *
 * @param s any string. @returns an unsigned 32-bit integer.
 */
export function hashSeed(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded random source with the few helpers data generation needs. */
export class Rng {
  private readonly next: () => number;

  /**
   * @param seed integer seed (low 32 bits used); the same seed gives the same sequence.
   * @throws Error when `seed` is not a finite number.
   */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    this.next = mulberry32(seed);
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next();
  }

  /**
   * Uniform integer in [0, n).
   * @throws Error when `n` is not a positive integer.
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** `true` with probability `p` (0 ≤ p ≤ 1). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * One element of `arr`, uniformly.
   * @throws Error when `arr` is empty.
   */
  pick<T>(arr: readonly T[]): T {
    if (arr.length === 0) throw new Error('Rng.pick: empty array');
    return arr[Math.floor(this.next() * arr.length)] as T;
  }

  /**
   * A key of `weights` drawn with probability proportional to its (non-negative) weight.
   * @throws Error when no weight is positive.
   */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += Math.max(0, weights[k]);
    if (!(total > 0)) throw new Error('Rng.weighted: no positive weight');
    let r = this.next() * total;
    for (const k of keys) {
      r -= Math.max(0, weights[k]);
      if (r < 0) return k;
    }
    return keys[keys.length - 1] as K;
  }

  /** Shuffles `arr` in place (Fisher–Yates) and returns it. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = arr[i] as T;
      arr[i] = arr[j] as T;
      arr[j] = t;
    }
    return arr;
  }
}
