/**
 * Sets of normalised sentences for deduplication and decontamination. Keys ({@link sentenceKey}) are
 * stored as 53-bit hashes (two 32-bit FNV-1a-style lanes), so a few million sentences take tens of
 * megabytes; the chance that two different keys collide among 10 million is about 10^-2.
 *
 * @module
 */
import { sentenceKey } from './text.js';

/** 53-bit hash of a string (exact in a double). */
export function hash53(s: string, seed = 0): number {
  let h1 = 0x811c9dc5 ^ seed;
  let h2 = 0x01000193 ^ Math.imul(seed, 0x9e3779b1);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h1 = Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b);
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  return (h2 >>> 0) * 2097152 + ((h1 >>> 0) & 0x1fffff);
}

/** A set of sentences compared by their normalised key ({@link sentenceKey}). */
export class SentenceSet {
  private readonly hashes = new Set<number>();

  /** Number of distinct keys. */
  get size(): number {
    return this.hashes.size;
  }

  /** Adds a sentence; returns false when its key was already there (or it has no letter or digit). */
  add(sentence: string): boolean {
    const k = sentenceKey(sentence);
    if (k === '') return false;
    const h = hash53(k);
    if (this.hashes.has(h)) return false;
    this.hashes.add(h);
    return true;
  }

  /** Is a sentence with the same key in the set? */
  has(sentence: string): boolean {
    const k = sentenceKey(sentence);
    return k !== '' && this.hashes.has(hash53(k));
  }
}
