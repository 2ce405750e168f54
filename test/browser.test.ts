/**
 * The widgets in a real browser: Debian's chromium driven by playwright-core against a classic
 * Notebook 6 server on 127.0.0.1 (with a token), with the flowlens kernelspec and the
 * flowlens-widgets nbextension installed into temporary Jupyter dirs. It opens a copy of
 * `notebooks/tour.ipynb`, runs all cells, checks that every widget rendered as a live view, moves
 * the attention-map slider, picks another saliency method, clicks a head in the head-mask grid and
 * checks that the linked saliency view changed, clicks an influence-graph node and checks the head
 * breakdown arrived, then restarts the kernel and checks the widgets work again. On a small fixture
 * notebook with every interactive widget kind it then does Kernel → Restart & Run All and interacts
 * with each widget as soon as its view appears, ten times in a row, each time checking the kernel's
 * answer in the view (the widget-update loss after a restart, issue 15); and it resizes the window
 * around every plotly figure. Screenshots go to `test-artifacts/screenshots/` (gitignored).
 *
 * Skipped, with a message, when chromium, playwright-core or `jupyter notebook` is missing
 * (FLOWLENS_CHROMIUM, FLOWLENS_JUPYTER choose the executables). */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { installKernelSpec } from '../kernel/install.js';
import { installNbextension } from '../widgets/nbextension.js';
import { freePort, havePlaywright, JupyterServer } from './helpers/browser.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');
/** Layers and heads of the tour's model (embedded:agreement), so the checks follow a retrained model. */
const tourConfig = JSON.parse(readFileSync(path.join(root, 'models', 'flowlens-agreement', 'config.json'), 'utf8')) as {
  num_hidden_layers: number;
  num_attention_heads: number;
};
const L = tourConfig.num_hidden_layers;
const H = tourConfig.num_attention_heads;
/** Notebook folder: a sibling of dist/, so the tour's `../dist/...` imports resolve. */
const artifacts = path.join(root, 'test-artifacts');
const shots = path.join(artifacts, 'screenshots');
const chromiumPath = process.env.FLOWLENS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function findJupyterNotebook(): string | undefined {
  for (const j of [process.env.FLOWLENS_JUPYTER, 'jupyter', '/usr/bin/jupyter'].filter((p): p is string => !!p)) {
    if (spawnSync(j, ['notebook', '--version'], { stdio: 'ignore' }).status === 0) return j;
  }
  return undefined;
}

/**
 * A small notebook written by the test with every interactive widget kind, each wired so that a
 * front-end interaction comes back from the kernel as a visible change, with values checkable by
 * hand: the attention-map slider and the saliency method picker are echoed by the kernel into the
 * title of an "echo" saliency view; a head-grid click recomputes a linked saliency (token 0 = number
 * of kept heads); an influence-node click brings a head breakdown; a new IBA β is recomputed
 * (z[0][0] = 1000·β). The last cell fails on purpose (a wrong shape), after the widgets, so Run All
 * runs them all.
 */
const FIXTURE_CELLS = [
  // Few cells: each costs a TypeScript check, and the test restarts and runs them all ten times.
  [
    "import { AttentionMaps } from '../dist/widgets/attentionMaps.js';",
    "import { TokenSaliency } from '../dist/widgets/saliency.js';",
    "import { HeadMaskGrid } from '../dist/widgets/headMask.js';",
    "import { InfluencePattern } from '../dist/widgets/influence.js';",
    "import { IbaLayerPlot } from '../dist/widgets/iba.js';",
    "const echo = new TokenSaliency({ tokens: ['kernel', 'echo'], scores: [1, -1], title: 'echo: none' });",
    'echo.display();',
    "const maps = new AttentionMaps({ tokens: ['a', 'b'], layers: 2, maps: { raw: [1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5] } });",
    "maps.onChange((keys, s) => { if (keys.includes('layer')) echo.set({ title: `echo: maps layer ${s.layer}` }); });",
    'maps.display();',
    "const picker = new TokenSaliency({ tokens: ['x', 'y'], methods: { first: [1, 0], second: [0, 1] } });",
    "picker.onChange((keys, s) => { if (keys.includes('method')) echo.set({ title: `echo: method ${s.method}` }); });",
    'picker.display();',
  ],
  [
    'const grid = new HeadMaskGrid({ scores: [[0.5, 1], [2, 0.25]], title: "heads" });',
    "const linked = new TokenSaliency({ tokens: ['kept', 'masked'], scores: [4, 0], title: 'no head masked' });",
    'grid.linkSaliency(linked, (mask) => { const kept = mask.flat().filter((v) => v === 1).length; return [kept, 4 - kept]; },',
    '  { title: (mask) => `${mask.flat().filter((v) => v === 0).length} head(s) masked` });',
    'grid.display();',
    'linked.display();',
    "const pattern = new InfluencePattern({ tokens: ['[CLS]', 'dogs', 'bark'], layers: 2, source: 1,",
    "  steps: [{ layer: 0, position: 1, kind: 'skip', influence: 0.5 }, { layer: 1, position: 2, kind: 'head', head: 1, influence: 0.25 }] });",
    'pattern.onNodeClick((layer, position) => ({ layer: layer, position: position, heads: [{ head: 0, influence: 0.1 }, { head: 1, influence: -0.3 }], skip: 0.05 }));',
    'pattern.display();',
    "const iba = new IbaLayerPlot({ tokens: ['a', 'b', 'c'], scores: [[1, 2, 3], [3, 2, 1]], layerNames: ['embeddings', 'layer 1'], beta: 0.001 });",
    '// z[0][0] = 1000·β, z[1][1] = row + 1: the browser checks both after changing β and the row.',
    'iba.onRecompute(({ beta, layer }) => [[beta * 1000, 1, 1], [1, layer + 1, 1]]);',
    'iba.display();',
  ],
  ["new AttentionMaps({ tokens: ['a', 'b'], layers: 1, maps: { raw: [1, 2] } }).display();"],
];
/** Index of the fixture's failing cell. */
const FIXTURE_ERROR_CELL = FIXTURE_CELLS.length - 1;
const FIXTURE = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'flowlens', display_name: 'flowlens (TypeScript)', language: 'typescript' } },
  cells: FIXTURE_CELLS.map((lines, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source: lines.join('\n') })),
};
/** Restart & Run All, then interact at once: this many times in a row. */
const RESTART_ROUNDS = 10;

const jupyter = findJupyterNotebook();
const skip = !existsSync(chromiumPath)
  ? `no chromium at ${chromiumPath} (apt-get install chromium)`
  : !jupyter
    ? 'no `jupyter notebook` (apt-get install jupyter-notebook)'
    : !(await havePlaywright())
      ? 'playwright-core is not installed (npm ci)'
      : !existsSync(path.join(root, 'dist', 'widgets', 'protocol.js'))
        ? 'dist/ not built (npm run build)'
        : false;

// The suite's limit is only a safety net (each wait has its own); on a machine shared with heavy jobs it ran 15 min.
describe('widgets in chromium on a Notebook 6 server', { skip, timeout: 1_800_000 }, () => {
  let tmp = '';
  let server: JupyterServer | undefined;
  let base = '';
  let token = '';
  let browser: import('playwright-core').Browser | undefined;
  let page: import('playwright-core').Page;
  const consoleErrors: string[] = [];

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-browser-'));
    mkdirSync(shots, { recursive: true });
    copyFileSync(path.join(root, 'notebooks', 'tour.ipynb'), path.join(artifacts, 'tour.ipynb'));
    writeFileSync(path.join(artifacts, 'fixture.ipynb'), JSON.stringify(FIXTURE));
    const data = path.join(tmp, 'data');
    const config = path.join(tmp, 'config');
    installKernelSpec({ env: { JUPYTER_DATA_DIR: data } });
    await installNbextension(data, config);
    token = randomBytes(16).toString('hex');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { ...process.env, JUPYTER_PATH: data, JUPYTER_DATA_DIR: data, JUPYTER_CONFIG_DIR: config, JUPYTER_RUNTIME_DIR: path.join(tmp, 'runtime') };
    server = await JupyterServer.start(
      'notebook server',
      jupyter!,
      [
        'notebook',
        '--no-browser',
        '--ip=127.0.0.1',
        `--port=${port}`,
        '--port-retries=0',
        `--NotebookApp.token=${token}`,
        `--notebook-dir=${artifacts}`,
        '--NotebookApp.open_browser=False',
        ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
      ],
      { env, cwd: artifacts, base, token },
    );
    const unauth = await fetch(`${base}/api/kernels`);
    assert.equal(unauth.status, 403, 'the server refuses requests without the token');
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs every cell and waits until all have an execution count; returns the error outputs. */
  async function runAll(what: string, allowErrors = false): Promise<string[]> {
    await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
    await page
      .waitForFunction(
        () => {
          const nb = (window as any).Jupyter.notebook;
          const cells = nb.get_cells().filter((c: any) => c.cell_type === 'code');
          return cells.every((c: any) => typeof c.input_prompt_number === 'number') && !nb.kernel_busy;
        },
        undefined,
        { timeout: 240_000, polling: 500 },
      )
      .catch(async (e) => {
        await page.screenshot({ path: path.join(shots, `${what}-timeout.png`), fullPage: true });
        throw new Error(`${what}: cells did not finish: ${e}\nserver log:\n${(server?.log ?? '').slice(-3000)}`);
      });
    const errors = await page.evaluate(() =>
      (window as any).Jupyter.notebook
        .get_cells()
        .flatMap((c: any) => (c.output_area?.outputs ?? []).filter((o: any) => o.output_type === 'error').map((o: any) => `${o.ename}: ${o.evalue}`)),
    );
    if (!allowErrors) assert.deepEqual(errors, [], `${what}: no cell errors`);
    return errors;
  }

  /** Lets a full-page screenshot show the whole notebook (Notebook 6 scrolls inside #site). */
  async function fullPageShot(file: string, p: import('playwright-core').Page = page): Promise<void> {
    await p.evaluate(() => {
      const site = document.querySelector('#site') as HTMLElement | null;
      if (site) Object.assign(site.style, { height: 'auto', overflow: 'visible' });
      document.body.style.overflow = 'visible';
      document.body.style.height = 'auto';
    });
    await p.screenshot({ path: path.join(shots, file), fullPage: true });
  }

  const LIVE = [
    'flowlens-attention-maps-widget',
    'flowlens-saliency-widget',
    'flowlens-head-mask-widget',
    'flowlens-influence-widget',
    'flowlens-curves-widget',
  ];

  async function checkRendered(what: string): Promise<void> {
    for (const cls of LIVE) {
      await page.waitForSelector(`.${cls}`, { timeout: 30_000 }).catch(() => {
        throw new Error(`${what}: no live ${cls} view (console errors: ${consoleErrors.join(' | ')})`);
      });
    }
    // plotly drew the degradation curves (plotly.min.js loaded from the nbextension folder).
    await page.waitForSelector('.flowlens-curves-widget .main-svg', { timeout: 30_000 });
    const n = await page.$$eval('.flowlens-saliency-widget', (els) => els.length);
    assert.equal(n, 3, `${what}: three saliency views`);
    assert.equal(await page.$$eval('.flowlens-head-mask-widget rect[data-head]', (els) => els.length), L * H, `a ${L} × ${H} head grid`);
  }

  it('opens the tour with the flowlens kernel and the widget manager', async () => {
    await page.goto(`${base}/notebooks/tour.ipynb?token=${token}`);
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.() && (window as any).flowlensWidgets?.manager?.(), undefined, {
      timeout: 90_000,
    });
    assert.equal(await page.evaluate(() => (window as any).Jupyter.notebook.kernel.name), 'flowlens');
  });

  it('runs all cells; every widget renders live', async () => {
    await runAll('run-all');
    await checkRendered('run-all');
    await fullPageShot('tour-full.png');
    for (const cls of LIVE) {
      await (await page.$(`.${cls}`))!.screenshot({ path: path.join(shots, `${cls}.png`) });
    }
  });

  it('the attention-map slider and the saliency method picker change the views', async () => {
    const maps = page.locator('.flowlens-attention-maps-widget');
    assert.equal(await maps.locator('.flowlens-attention-maps').getAttribute('data-layer'), String(L - 1));
    await maps.locator('input.flowlens-layer-slider').fill('1');
    await page.waitForFunction(() => document.querySelector('.flowlens-attention-maps')?.getAttribute('data-layer') === '1');
    const sal = page.locator('.flowlens-saliency-widget').first();
    const before = await sal.locator('.flowlens-saliency').innerHTML();
    await sal.locator('select.flowlens-method-picker').selectOption('rollout');
    await page.waitForFunction((b) => document.querySelector('.flowlens-saliency-widget .flowlens-saliency')?.innerHTML !== b, before);
    assert.match(await sal.innerText(), /rollout/);
  });

  it('clicking a head in the grid recomputes the linked saliency in the kernel', async () => {
    // The head whose masking drops the QoI most (largest score) changes blank-out the most.
    const target = await page.$$eval('.flowlens-head-mask-widget rect[data-head]', (rects) => {
      let best = rects[0];
      let bestV = -Infinity;
      for (const r of rects) {
        const v = Number(/: Δ p\(are\) − p\(is\) (\S+)/.exec(r.querySelector('title')?.textContent ?? '')?.[1]);
        if (v > bestV) {
          bestV = v;
          best = r;
        }
      }
      return { layer: best.getAttribute('data-layer'), head: best.getAttribute('data-head') };
    });
    const linked = page.locator('.flowlens-saliency-widget').nth(2);
    const before = await linked.locator('.flowlens-saliency').innerHTML();
    assert.match(before, /no head masked/);
    await page.locator(`.flowlens-head-mask-widget rect[data-layer="${target.layer}"][data-head="${target.head}"]`).click();
    await page.waitForFunction(() => /1 head\(s\) masked/.test(document.querySelectorAll('.flowlens-saliency-widget')[2]?.textContent ?? ''), undefined, {
      timeout: 60_000,
    });
    const afterHtml = await linked.locator('.flowlens-saliency').innerHTML();
    const styles = (h: string) => [...h.matchAll(/background:(rgba\([^)]*\))/g)].map((m) => m[1]).join(' ');
    assert.notEqual(styles(afterHtml), styles(before), 'the token colours changed');
    assert.equal(await page.locator('.flowlens-head-mask-widget .flowlens-masked-count').innerText(), '1');
    await (await page.$('.flowlens-head-mask-widget'))!.screenshot({ path: path.join(shots, 'head-mask-clicked.png') });
    await linked.screenshot({ path: path.join(shots, 'saliency-after-mask.png') });
  });

  it('clicking an influence-graph node brings its head breakdown from the kernel', async () => {
    await page.locator(`.flowlens-influence-widget circle[data-layer="${L}"][data-position="7"]`).click();
    await page.waitForSelector('.flowlens-influence-widget .flowlens-breakdown', { timeout: 60_000 });
    assert.match(await page.locator('.flowlens-influence-widget .flowlens-breakdown').innerHTML(), new RegExp(`heads of layer ${L} into \\[MASK\\] \\(7\\)`));
    await (await page.$('.flowlens-influence-widget'))!.screenshot({ path: path.join(shots, 'influence-clicked.png') });
  });

  it('after a kernel restart the widgets work again', async () => {
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const J = (window as any).Jupyter;
          J.notebook.events.one('kernel_ready.Kernel', () => resolve());
          J.notebook.kernel.restart();
        }),
    );
    await page.evaluate(() => (window as any).Jupyter.notebook.clear_all_output());
    await runAll('after-restart');
    await checkRendered('after-restart');
    const before = await page.locator('.flowlens-saliency-widget').nth(2).locator('.flowlens-saliency').innerHTML();
    await page.locator('.flowlens-head-mask-widget rect[data-layer="0"][data-head="0"]').click();
    await page.waitForFunction((b) => document.querySelectorAll('.flowlens-saliency-widget')[2]?.querySelector('.flowlens-saliency')?.innerHTML !== b, before, {
      timeout: 60_000,
    });
    await fullPageShot('tour-after-restart.png');
    const relevant = consoleErrors.filter((e) => /flowlens/i.test(e));
    assert.deepEqual(relevant, [], 'no flowlens errors in the browser console');
  });
  /** Waits until `fn` is true in the page; on timeout fails with `what` and a screenshot. */
  async function waitFor(p: import('playwright-core').Page, what: string, fn: string, timeout = 60_000): Promise<void> {
    await p.waitForFunction(fn, undefined, { timeout, polling: 100 }).catch(async (e) => {
      await p.screenshot({ path: path.join(shots, `timeout-${what.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
      throw new Error(`${what}: ${e}\nconsole errors: ${consoleErrors.join(' | ')}\nserver log:\n${(server?.log ?? '').slice(-2000)}`);
    });
  }

  let fixture: import('playwright-core').Page;

  it(`fixture: after Restart & Run All every interactive widget kind answers a click at once, ${RESTART_ROUNDS} times in a row`, async (t) => {
    fixture = await browser!.newPage({ viewport: { width: 1300, height: 1000 } });
    fixture.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    fixture.on('pageerror', (e) => consoleErrors.push(String(e)));
    await fixture.goto(`${base}/notebooks/fixture.ipynb?token=${token}`);
    await fixture.waitForFunction(
      () => (window as any).Jupyter?.notebook?.kernel?.is_connected?.() && (window as any).flowlensWidgets?.manager?.(),
      undefined,
      { timeout: 90_000 },
    );
    const echo = "document.querySelectorAll('.flowlens-saliency-widget')[0]?.textContent ?? ''";
    for (let round = 1; round <= RESTART_ROUNDS; round++) {
      const r = `round ${round}`;
      const t0 = Date.now();
      await fixture.evaluate(() => {
        const nb = (window as any).Jupyter.notebook;
        nb.clear_all_output();
        nb.restart_run_all({ confirm: false });
      });
      // Each interaction as soon as its view exists (cells after it may still be running).
      await fixture.waitForSelector('.flowlens-attention-maps-widget input.flowlens-layer-slider', { timeout: 90_000 });
      await fixture.locator('.flowlens-attention-maps-widget input.flowlens-layer-slider').fill('0');
      await waitFor(fixture, `${r}: the kernel echoes the attention-map layer`, `/echo: maps layer 0/.test(${echo})`);

      // The second saliency view is the one with methods (the others hide their empty picker).
      const picker = fixture.locator('.flowlens-saliency-widget').nth(1).locator('select.flowlens-method-picker');
      await picker.waitFor({ state: 'visible', timeout: 60_000 });
      await picker.selectOption('second');
      await waitFor(fixture, `${r}: the kernel echoes the saliency method`, `/echo: method second/.test(${echo})`);

      await fixture.waitForSelector('.flowlens-head-mask-widget rect[data-layer="0"][data-head="1"]', { timeout: 60_000 });
      await fixture.waitForFunction(() => /no head masked/.test(document.querySelectorAll('.flowlens-saliency-widget')[2]?.textContent ?? ''), undefined, {
        timeout: 60_000,
      });
      await fixture.locator('.flowlens-head-mask-widget rect[data-layer="0"][data-head="1"]').click();
      await waitFor(
        fixture,
        `${r}: a head click recomputes the linked saliency in the kernel`,
        "/1 head\\(s\\) masked/.test(document.querySelectorAll('.flowlens-saliency-widget')[2]?.textContent ?? '')",
      );
      // 3 heads kept of 4: the kernel's rule gives [3, 1], so "kept" has the full colour and "masked" a third.
      const kept = await fixture.evaluate(
        () => document.querySelectorAll('.flowlens-saliency-widget')[2]?.querySelector('[data-index="1"]')?.getAttribute('style') ?? '',
      );
      assert.match(kept, /rgba\(220,38,38,0\.333\)/, `${r}: the linked saliency shows the kernel's scores`);

      await fixture.waitForSelector('.flowlens-influence-widget circle[data-layer="2"][data-position="2"]', { timeout: 60_000 });
      await fixture.locator('.flowlens-influence-widget circle[data-layer="2"][data-position="2"]').click();
      await waitFor(
        fixture,
        `${r}: a node click brings the head breakdown`,
        "/heads of layer 2 into bark \\(2\\)/.test(document.querySelector('.flowlens-influence-widget .flowlens-breakdown')?.textContent ?? '')",
      );

      await fixture.waitForSelector('.flowlens-iba-widget .main-svg', { timeout: 90_000 });
      await fixture.locator('.flowlens-iba-widget input.flowlens-beta').fill('0.004');
      await fixture.locator('.flowlens-iba-widget input.flowlens-beta').dispatchEvent('change');
      await waitFor(
        fixture,
        `${r}: the kernel recomputes IBA for the new β`,
        "document.querySelector('.flowlens-iba-widget .flowlens-plotly')?.data?.[0]?.z?.[0]?.[0] === 4",
      );
      await fixture.locator('.flowlens-iba-widget select.flowlens-layer').selectOption('0');
      await waitFor(
        fixture,
        `${r}: the kernel recomputes IBA for the new row`,
        "document.querySelector('.flowlens-iba-widget .flowlens-plotly')?.data?.[0]?.z?.[1]?.[1] === 1",
      );

      // The last cell's wrong shape is an error output of that cell, with the message.
      await waitFor(
        fixture,
        `${r}: run all finished`,
        `!Jupyter.notebook.kernel_busy && Jupyter.notebook.get_cell(${FIXTURE_ERROR_CELL}).output_area.outputs.some((o) => o.output_type === 'error')`,
        120_000,
      );
      const err = await fixture.evaluate(
        (i) =>
          (window as any).Jupyter.notebook
            .get_cell(i)
            .output_area.outputs.filter((o: any) => o.output_type === 'error')
            .map((o: any) => `${o.ename}: ${o.evalue}`),
        FIXTURE_ERROR_CELL,
      );
      assert.equal(err.length, 1, `${r}: one error output in the last cell`);
      assert.match(err[0], /^Error: AttentionMaps: map "raw" has 2 values, expected \[layers, seq, seq\] = \[1, 2, 2\] = 4/);
      t.diagnostic(`${r}: restart, run all and five interactions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    assert.equal(
      await fixture.$eval('.flowlens-iba-widget select.flowlens-layer', (el) => [...(el as HTMLSelectElement).options].map((o) => o.text).join(',')),
      'embeddings,layer 1',
      'the IBA picker shows the row names',
    );
    await (await fixture.$('.flowlens-iba-widget'))!.screenshot({ path: path.join(shots, 'flowlens-iba-widget.png') });
    await fixture.screenshot({ path: path.join(shots, 'fixture.png'), fullPage: true });
    const relevant = consoleErrors.filter((e) => /flowlens/i.test(e));
    assert.deepEqual(relevant, [], 'no flowlens errors in the browser console');
  });

  it('plotly figures (degradation curves, IBA plot) keep their size and data through window resizes and a full-page screenshot', async () => {
    const figures: [import('playwright-core').Page, string, string][] = [
      [page, '.flowlens-curves-widget', 'curves'],
      [fixture, '.flowlens-iba-widget', 'iba'],
    ];
    for (const [p, sel, name] of figures) {
      await p.bringToFront();
      const measure = () =>
        p.evaluate((s) => {
          const el = document.querySelector(`${s} .flowlens-plotly`) as (HTMLElement & { data?: unknown[] }) | null;
          const svg = el?.querySelector('.main-svg')?.getBoundingClientRect();
          return {
            w: svg?.width ?? 0,
            h: svg?.height ?? 0,
            box: el?.getBoundingClientRect().width ?? 0,
            traces: el?.data?.length ?? 0,
            drawn: el?.querySelectorAll('.scatterlayer .trace, .heatmaplayer .hm').length ?? 0,
          };
        }, sel);
      const first = await measure();
      assert.ok(first.h > 200 && first.w > 200 && first.traces > 0 && first.drawn > 0, `${name}: drawn at first (${JSON.stringify(first)})`);
      for (const [w, h] of [
        [760, 700],
        [1500, 1000],
        [1000, 800],
        [1300, 1000],
      ]) {
        await p.setViewportSize({ width: w, height: h });
        await p.waitForTimeout(700); // plotly's responsive resize runs on the window's resize event
        const m = await measure();
        assert.ok(m.h > 200, `${name} at ${w}×${h}: height ${m.h} (the figure vanished)`);
        assert.ok(Math.abs(m.w - m.box) <= 2, `${name} at ${w}×${h}: fills its container (${m.w} vs ${m.box})`);
        assert.equal(m.traces, first.traces, `${name} at ${w}×${h}: keeps its data`);
        assert.equal(m.drawn, first.drawn, `${name} at ${w}×${h}: every trace drawn`);
      }
      await fullPageShot(`resize-${name}.png`, p);
      const after = await measure();
      assert.ok(
        after.h > 200 && after.traces === first.traces && after.drawn === first.drawn,
        `${name}: still drawn after a full-page screenshot (${JSON.stringify(after)})`,
      );
    }
  });
});
