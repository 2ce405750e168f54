/**
 * `flowlens figure <kind> <data.json> --out <file.html>`: a widget's figure as a self-contained
 * HTML file from the command line, without a kernel. `data.json` holds the widget's plain input
 * (what its constructor takes, e.g. `{tokens, scores}` for `saliency`, `{curves: [...]}` for
 * `curves`); the page is the widget's static rendering (inline SVG), or for `iba` and `curves` its
 * plotly figure with plotly.js inlined. No network either way.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CommManager } from '../kernel/comm.js';
import { AttentionMaps } from './attentionMaps.js';
import { DegradationCurves } from './curves.js';
import { HeadMaskGrid } from './headMask.js';
import { IbaLayerPlot } from './iba.js';
import { InfluencePattern } from './influence.js';
import type { WidgetOptions } from './protocol.js';
import { TokenSaliency } from './saliency.js';

/** Widget kinds of `flowlens figure`, by name. */
export const FIGURE_KINDS: Record<string, (data: any, opts: WidgetOptions) => { exportHtml(path: string): void }> = {
  saliency: (d, o) => new TokenSaliency(d, o),
  'attention-maps': (d, o) => new AttentionMaps(d, o),
  influence: (d, o) => new InfluencePattern(d, o),
  'head-mask': (d, o) => new HeadMaskGrid(d, o),
  iba: (d, o) => new IbaLayerPlot(d, o),
  curves: (d, o) => new DegradationCurves(d, o),
};

/**
 * Writes the figure of one widget kind for the data in a JSON file.
 * @param kind a key of {@link FIGURE_KINDS}.
 * @throws Error for an unknown kind, an unreadable or non-JSON file, or data the widget rejects
 *   (its message names the wrong shape); nothing is written then.
 */
export function writeFigure(kind: string, dataFile: string, out: string): void {
  const make = FIGURE_KINDS[kind];
  if (!make) throw new Error(`figure: unknown kind "${kind}" (kinds: ${Object.keys(FIGURE_KINDS).join(', ')})`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(dataFile, 'utf8'));
  } catch (e) {
    throw new Error(`figure: cannot read JSON from ${dataFile}: ${(e as Error).message}`);
  }
  // No kernel: the widget's comm goes nowhere.
  const manager = new CommManager({ publish: () => {} });
  make(data, { manager }).exportHtml(out);
}

/**
 * Registers `figure <kind> <data.json> --out <file>` on the program.
 * @param program the commander program of `src/cli/main.ts`.
 */
export function registerFigure(program: Command): void {
  program
    .command('figure')
    .description(`write a widget's figure as self-contained HTML (no network); kinds: ${Object.keys(FIGURE_KINDS).join(', ')}`)
    .argument('<kind>', 'widget kind')
    .argument('<data>', "JSON file with the widget's input data")
    .requiredOption('--out <file>', 'output HTML file')
    .action((kind: string, data: string, o: { out: string }) => {
      writeFigure(kind, data, o.out);
      console.log(`wrote ${o.out}`);
    });
}
