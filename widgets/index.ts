/**
 * `flowlens/widgets`: the Jupyter widgets (kernel side, widget protocol 2.1) of flowlens. Each takes
 * plain data (a `TokenAttribution`'s scores, attention maps, degradation curves …), displays itself
 * in a flowlens kernel cell (`w.display()`), and renders a static HTML figure for saved notebooks.
 *
 * ```ts
 * import { explain, loadModel } from 'flowlens';
 * import { TokenSaliency } from 'flowlens/widgets';
 * const loaded = await loadModel('embedded:sst2');
 * const a = explain(loaded, 'a gripping film', { method: 'integrated_gradients' });
 * new TokenSaliency({ tokens: a.tokens, scores: a.scores }).display();
 * ```
 *
 * @module
 */
export { Widget, type WidgetOptions } from './protocol.js';
export { TokenSaliency, type TokenSaliencyInit, type TokenSaliencyState } from './saliency.js';
export { AttentionMaps, type AttentionMapsData, type AttentionMapsState } from './attentionMaps.js';
export { InfluencePattern, type InfluencePatternData, type InfluencePatternState, type HeadBreakdown, type PatternStep } from './influence.js';
export { HeadMaskGrid, type HeadMaskData, type HeadMaskState } from './headMask.js';
export { IbaLayerPlot, type IbaData, type IbaParams, type IbaState } from './iba.js';
export { DegradationCurves, type DegradationCurve, type DegradationCurveInput, type DegradationData, type DegradationState } from './curves.js';
export { aopc } from './curvesHtml.js';
export { renderSaliencyHtml, saliencyColor } from './saliencyHtml.js';
export { FIGURE_KINDS, writeFigure } from './cli.js';
