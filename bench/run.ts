/**
 * `npm run bench`: every benchmark, one run, printed as tables and written to bench/out/results.json.
 * Figures are wall-clock on a shared machine: compare ratios within one run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchModel, printModelBench } from './model.bench.js';

// `--only model,flow,iba,influence,lrp,pretrain` runs a subset; `--quick` smaller sizes.
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : null;
const want = (name: string): boolean => !only || only.has(name);
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, backend: process.env.FLOWLENS_BACKEND ?? 'wasm' };
if (want('model')) {
  console.log('# flowlens vs PyTorch: forward, backward, integrated gradients (same weights, same machine)');
  const roundsArg = process.argv.indexOf('--rounds');
  const model = await benchModel(process.argv.includes('--quick'), roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : undefined);
  printModelBench(model);
  results.model = model;
}
if (want('flow'))
  try {
    const flowBench = './attentionFlow.bench.js';
    const mod = (await import(flowBench)) as { benchAttentionFlow?: () => Promise<unknown> };
    if (mod.benchAttentionFlow) {
      console.log('# attention flow');
      results.attentionFlow = await mod.benchAttentionFlow();
    }
  } catch (e) {
    console.log('attention flow benchmark unavailable:', (e as Error).message);
  }
if (want('iba'))
  try {
    const { benchIba } = await import('./iba.bench.js');
    console.log('# IBA, integrated gradients, LIME per example (embedded:sst2)');
    const iba = await benchIba(process.argv.includes('--quick') ? 5 : 20);
    console.table(
      iba.map((r) => ({
        method: r.method,
        'mean ms': r.meanMs.toFixed(0),
        'median ms': r.medianMs.toFixed(0),
        'max ms': r.maxMs.toFixed(0),
        n: r.n,
        'mean tokens': r.meanTokens.toFixed(1),
      })),
    );
    results.iba = iba;
  } catch (e) {
    console.log('IBA benchmark unavailable:', (e as Error).message);
  }
if (want('influence'))
  try {
    const { benchInfluence } = await import('./influence.bench.js');
    console.log('# influence patterns per example (embedded:agreement, SVA across an object relative clause)');
    const inf = await benchInfluence(process.argv.includes('--quick') ? 3 : 10);
    console.table(
      inf.map((r) => ({
        res: r.res,
        n: r.n,
        'mean s': r.meanS.toFixed(2),
        'median s': r.medianS.toFixed(2),
        'examples/min': r.perMinute.toFixed(1),
        tokens: r.meanTokens.toFixed(1),
      })),
    );
    results.influencePatterns = inf;
  } catch (e) {
    console.log('influence-pattern benchmark unavailable:', (e as Error).message);
  }
if (want('lrp'))
  try {
    const { benchLrp, printLrpBench } = await import('./lrp.bench.js');
    console.log('# Mask-LRP vs GAE vs full LRP per explanation (random classifiers)');
    const lrp = await benchLrp(process.argv.includes('--quick'));
    printLrpBench(lrp);
    results.lrp = lrp;
  } catch (e) {
    console.log('LRP benchmark unavailable:', (e as Error).message);
  }
if (want('pretrain'))
  try {
    const { benchPretrain, printPretrainBench } = await import('./pretrain.bench.js');
    console.log('# masked-LM pretraining throughput, 1 worker vs all cores');
    const pre = await benchPretrain(process.argv.includes('--quick'));
    printPretrainBench(pre);
    results.pretrain = pre;
  } catch (e) {
    console.log('pretraining benchmark unavailable:', (e as Error).message);
  }
mkdirSync('bench/out', { recursive: true });
writeFileSync(only ? `bench/out/results-${[...only].join('-')}.json` : 'bench/out/results.json', JSON.stringify(results, null, 2));
console.log(`wrote bench/out/${only ? `results-${[...only].join('-')}` : 'results'}.json`);
