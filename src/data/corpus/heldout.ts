/**
 * The held-out split of the corpus: by document, from a hash of the document id and the seed, so that
 * the split is deterministic, independent of the order and number of other documents, and never cuts a
 * document in two.
 *
 * @module
 */
import { hash53 } from './dedup.js';

/**
 * Is a document in the held-out split?
 *
 * @param docId the document id (e.g. `brown/ca01`). @param seed any integer.
 * @param fraction share of documents held out, in [0, 1] (default 0.01).
 * @returns true for about `fraction` of all ids, the same ids for the same seed.
 * @throws Error when `fraction` is outside [0, 1].
 */
export function isHeldout(docId: string, seed: number, fraction = 0.01): boolean {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`held-out fraction must be in [0, 1], got ${fraction}`);
  const u = hash53(docId, seed | 0) / 2 ** 53;
  return u < fraction;
}
