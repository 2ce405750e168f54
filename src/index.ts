/** flowlens: public API. */
export * from './backend/index.js';
