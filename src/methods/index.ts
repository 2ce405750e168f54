/**
 * Attribution methods of flowlens, one import away.
 *
 * - Attention-based (plain arrays, Abnar & Zuidema 2020): {@link ./attentionTypes.js}
 *   (`AttentionStack`, head reductions), {@link ./rawAttention.js}, {@link ./rollout.js},
 *   {@link ./attentionFlow.js} (on {@link ./maxflow.js}).
 * - Model-based, returning {@link TokenAttribution}: {@link blankOut}, {@link inputGradient},
 *   {@link gradientTimesInput}, {@link inputGradients}.
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
