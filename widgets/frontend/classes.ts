/** The model and view classes of the `flowlens-widgets` front-end module, by name (shared by the Notebook 6 manager and the JupyterLab plugin). */
import type * as base from '@jupyter-widgets/base';
import { AttentionMapsModel, AttentionMapsView } from './attentionMapsModel.js';
import { DegradationCurvesModel, DegradationCurvesView } from './curvesModel.js';
import { HeadMaskModel, HeadMaskView } from './headMaskModel.js';
import { IbaModel, IbaView } from './ibaModel.js';
import { InfluencePatternModel, InfluencePatternView } from './influenceModel.js';
import { TokenSaliencyModel, TokenSaliencyView } from './saliencyModel.js';

/** Classes of the `flowlens-widgets` module, by `_model_name` / `_view_name`. */
export const FLOWLENS_CLASSES: Record<string, typeof base.WidgetModel | typeof base.WidgetView> = {
  TokenSaliencyModel,
  TokenSaliencyView,
  AttentionMapsModel,
  AttentionMapsView,
  HeadMaskModel,
  HeadMaskView,
  InfluencePatternModel,
  InfluencePatternView,
  IbaModel,
  IbaView,
  DegradationCurvesModel,
  DegradationCurvesView,
};
