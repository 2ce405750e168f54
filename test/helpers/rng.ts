/** The seeded PRNG of the tests: mulberry32 from `src/data/random.ts`, uniform in [0, 1). */
export { mulberry32 as mulberry } from '../../src/data/random.js';
