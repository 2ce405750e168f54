/**
 * The random attribution baseline of degradation tests: every token gets an independent uniform score
 * in [0, 1) (Jiang et al. 2020, arXiv 2012.13838, §4.2; reference `bazingagin/IBA`,
 * `np.random.uniform(size=len(tokens))`), so removing tokens "in order of importance" removes them in a
 * random order. Seeded, so a run can be repeated.
 *
 * @module
 */
import { Rng } from '../data/random.js';
import { tokenAttribution, type TokenAttribution } from './result.js';

/**
 * Uniform random scores for `tokens`.
 *
 * @param tokens `[seq]` token strings; @param seed integer seed (the same seed gives the same scores).
 * @returns method `'random'`, `scores` `[seq]` in [0, 1), `meta` `{seed}`.
 * @throws Error when `seed` is not a finite number.
 */
export function randomAttribution(tokens: readonly string[], seed: number, qoi = 'none (random baseline)'): TokenAttribution {
  const rng = new Rng(seed);
  return tokenAttribution(
    'random',
    tokens.slice(),
    tokens.map(() => rng.float()),
    qoi,
    { meta: { seed } },
  );
}
