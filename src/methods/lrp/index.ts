/**
 * LRP for transformers (Chefer et al. 2021a) and the methods built on it: rules, the recorded trace
 * with gradients, the relevance pass, the attention-map helpers, and the LRP baselines.
 *
 * @module
 */
export * from './rules.js';
export * from './explainTrace.js';
export * from './relevance.js';
export * from './maps.js';
export * from './lrpMethods.js';
