/**
 * Attribution methods of flowlens, one import away.
 *
 * - The one contract and registry: `explainer.ts` ({@link explain}, {@link register}, {@link listMethods});
 *   every built-in registered in `builtins.ts`.
 * - Attention-based (plain arrays, Abnar & Zuidema 2020): `attentionTypes.ts` (`AttentionStack`, head
 *   reductions), `rawAttention.ts`, `rollout.ts`, `attentionFlow.ts` (on `maxflow.ts`).
 * - Model-based, returning {@link TokenAttribution}: {@link blankOut}, {@link inputGradient},
 *   {@link gradientTimesInput}, {@link integratedGradients}, {@link lime}, {@link iba}, the LRP family.
 * - Perturbations shared by LIME and the evaluations: `perturbation.ts`.
 *
 * @module
 */
export * from './result.js';
export * from './blankOut.js';
export * from './inputGradient.js';
export * from './attentionTypes.js';
export * from './rawAttention.js';
export * from './rollout.js';
export * from './attentionFlow.js';
export * from './maxflow.js';
export * from './integratedGradients.js';
export * from './lrp/index.js';
export * from './maskLrp.js';
export * from './gae.js';
export * from './attcat.js';
export * from './gradcam.js';
export * from './featureStats.js';
export * from './iba.js';
export * from './influencePath.js';
export * from './influencePatterns.js';
export * from './lime.js';
export * from './random.js';
export * from './perturbation.js';
export * from './explainer.js';
export * from './builtins.js';
