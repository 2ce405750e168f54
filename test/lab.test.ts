/**
 * The widgets in a real JupyterLab front end: for each JupyterLab major version (4 and 3; choose with
 * FLOWLENS_LAB_VERSIONS=4,3), the application assembled from JupyterLab's npm packages
 * (`test/lab-app/labN`, built by `test/lab-app/build.mjs`, cached in `.cache/lab-app/`) is served by
 * Debian's jupyter_server + jupyterlab_server on 127.0.0.1 with a token (`test/lab-app/serve.py`).
 * `flowlens kernel install --prefix <tmp>` installs the kernelspec and the prebuilt extension into
 * `<tmp>/share/jupyter`, which the server finds through JUPYTER_PATH and lists in the page config
 * (`federated_extensions`); the front end loads it from there, as JupyterLab does for an extension
 * installed with pip. Chromium (playwright-core, Debian's /usr/bin/chromium) then opens each notebook
 * in `notebooks/` (in JupyterLab 3 the tour and jiang2020, see `notebooksFor`; copied to
 * `test-artifacts/labN-<name>.ipynb`), runs all cells, checks that every
 * widget the notebook creates is a live view, and uses each interactive one: the attention-map layer
 * slider, the saliency method picker, a head click in the head-mask grid (the linked saliency is
 * recomputed in the kernel), a node click in the influence pattern (the kernel sends the head
 * breakdown), β and layer changes in the IBA plot (the kernel recomputes). Screenshots go to
 * `test-artifacts/lab/`.
 *
 * Skipped, with a message, when chromium, playwright-core or a Python with jupyter_server and
 * jupyterlab_server is missing (FLOWLENS_CHROMIUM, FLOWLENS_JUPYTER_PYTHON choose them). A failing
 * app install or build fails the test.
 */
import { strict as assert } from 'node:assert';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runInstall } from '../kernel/install.js';
import { installWidgetsFor } from '../widgets/install.js';
import { freePort, havePlaywright, JupyterServer } from './helpers/browser.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');
const labApp = path.join(root, 'test', 'lab-app');
/** Notebooks run from `test-artifacts/` (a sibling of dist/, so their `../dist/...` imports resolve). */
const artifacts = path.join(root, 'test-artifacts');
const shots = path.join(artifacts, 'lab');
const chromiumPath = process.env.FLOWLENS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VERSIONS = (process.env.FLOWLENS_LAB_VERSIONS ?? '4,3')
  .split(',')
  .map((v) => v.trim())
  .filter(Boolean);
const NOTEBOOKS = readdirSync(path.join(root, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
/**
 * Notebooks per version: every notebook in JupyterLab 4; in JupyterLab 3 (to keep CI within its time)
 * the two that together have every interactive widget (the tour: slider, method picker, head click,
 * node click; jiang2020: IBA β and layer). FLOWLENS_LAB_ALL=1 runs every notebook in both;
 * FLOWLENS_LAB_NOTEBOOKS=<names> only the named ones.
 */
const notebooksFor = (major: string): string[] => {
  // FLOWLENS_LAB_NOTEBOOKS=a.ipynb,b.ipynb: only these (to debug one notebook).
  const only = process.env.FLOWLENS_LAB_NOTEBOOKS?.split(',').filter(Boolean);
  if (only) return NOTEBOOKS.filter((n) => only.includes(n));
  return major === '3' && process.env.FLOWLENS_LAB_ALL !== '1' ? ['jiang2020-iba.ipynb', 'tour.ipynb'] : NOTEBOOKS;
};
const committedExt = JSON.parse(readFileSync(path.join(root, 'widgets', 'lab', 'labextension', 'package.json'), 'utf8')) as {
  jupyterlab: { _build: { load: string } };
};

/** The live view class of each widget class a notebook can create. */
const VIEW_CLASS: Record<string, string> = {
  TokenSaliency: 'flowlens-saliency-widget',
  AttentionMaps: 'flowlens-attention-maps-widget',
  InfluencePattern: 'flowlens-influence-widget',
  HeadMaskGrid: 'flowlens-head-mask-widget',
  IbaLayerPlot: 'flowlens-iba-widget',
  DegradationCurves: 'flowlens-curves-widget',
};

/** The live view classes a notebook's code creates, with the number of constructor calls (`new X(`, `X.fromStack(`). */
function expectedViews(file: string): Record<string, number> {
  const nb = JSON.parse(readFileSync(file, 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
  const src = nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    .join('\n');
  const out: Record<string, number> = {};
  for (const [cls, view] of Object.entries(VIEW_CLASS)) {
    const n = (src.match(new RegExp(`\\bnew ${cls}\\(|\\b${cls}\\.fromStack\\(`, 'g')) ?? []).length;
    if (n) out[view] = n;
  }
  return out;
}

/** A Python that imports jupyter_server and jupyterlab_server (Debian's python3-jupyter-server, -jupyterlab-server). */
function findLabPython(): string | undefined {
  for (const py of [process.env.FLOWLENS_JUPYTER_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    if (spawnSync(py, ['-c', 'import jupyter_server, jupyterlab_server'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

/** Builds (or finds cached) the JupyterLab app of major version `major`; returns its folder. */
function buildApp(major: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    execFile(
      process.execPath,
      [path.join(labApp, 'build.mjs'), major, '--json'],
      { cwd: root, maxBuffer: 64 << 20, timeout: 25 * 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`test/lab-app/build.mjs ${major} failed: ${err.message}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
        const lines = stdout.trim().split('\n');
        console.log(`JupyterLab ${major} app: ${lines.filter((l) => !l.startsWith('{')).join('; ')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
        resolve((JSON.parse(lines[lines.length - 1]) as Record<string, string>)[major]);
      },
    );
  });
}

const python = findLabPython();
const skip = !existsSync(chromiumPath)
  ? `no chromium at ${chromiumPath} (apt-get install chromium)`
  : !python
    ? 'no Python with jupyter_server and jupyterlab_server (apt-get install python3-jupyter-server python3-jupyterlab-server)'
    : !(await havePlaywright())
      ? 'playwright-core is not installed (npm ci)'
      : !existsSync(path.join(root, 'dist', 'widgets', 'protocol.js'))
        ? 'dist/ not built (npm run build)'
        : false;

for (const major of VERSIONS) {
  describe(`widgets in JupyterLab ${major} (prebuilt extension) in chromium`, { skip, timeout: 45 * 60_000 }, () => {
    let tmp = '';
    let server: JupyterServer | undefined;
    let base = '';
    let token = '';
    let context: import('playwright-core').BrowserContext | undefined;
    let page: import('playwright-core').Page;
    const consoleErrors: string[] = [];
    const extRequests: { url: string; status: number }[] = [];

    before(async () => {
      if (!existsSync(path.join(labApp, `lab${major}`, 'package-lock.json')))
        throw new Error(`unknown JupyterLab version ${major}: no test/lab-app/lab${major}`);
      const appDir = await buildApp(major);
      tmp = mkdtempSync(path.join(os.tmpdir(), `flowlens-lab${major}-`));
      mkdirSync(shots, { recursive: true });
      for (const nb of notebooksFor(major)) copyFileSync(path.join(root, 'notebooks', nb), path.join(artifacts, `lab${major}-${nb}`));
      // What a user runs: the kernelspec and the prebuilt extension into <prefix>/share/jupyter.
      const prefix = path.join(tmp, 'env');
      await runInstall(['--prefix', prefix], installWidgetsFor); // as `flowlens kernel install` (src/cli/kernel.ts)
      assert.ok(existsSync(path.join(prefix, 'share', 'jupyter', 'labextensions', 'flowlens-widgets', committedExt.jupyterlab._build.load)));
      token = randomBytes(16).toString('hex');
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      const env = {
        ...process.env,
        JUPYTER_PATH: path.join(prefix, 'share', 'jupyter'),
        JUPYTER_DATA_DIR: path.join(tmp, 'data'),
        JUPYTER_CONFIG_DIR: path.join(tmp, 'config'),
        JUPYTER_RUNTIME_DIR: path.join(tmp, 'runtime'),
      };
      server = await JupyterServer.start(
        'JupyterLab server',
        python!,
        [
          path.join(labApp, 'serve.py'),
          appDir,
          path.join(tmp, 'lab-settings'),
          '--no-browser',
          '--ip=127.0.0.1',
          `--port=${port}`,
          '--port-retries=0',
          `--ServerApp.token=${token}`,
          `--ServerApp.root_dir=${artifacts}`,
          ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
        ],
        { env, cwd: artifacts, base, token },
      );
      assert.equal((await fetch(`${base}/api/kernels`)).status, 403, 'the server refuses requests without the token');
      const { chromium } = await import('playwright-core');
      context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
        executablePath: chromiumPath,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1400, height: 1000 },
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      page.on('response', (r) => {
        if (r.url().includes('/lab/extensions/flowlens-widgets/')) extRequests.push({ url: r.url(), status: r.status() });
      });
    });

    /** Loads JupyterLab with a reset workspace and waits until it is restored. */
    async function openLab(): Promise<void> {
      await page.goto(`${base}/lab?reset&token=${token}`);
      await page.waitForFunction(() => (window as any).jupyterapp && document.querySelector('.jp-LabShell'), undefined, { timeout: 180_000 });
      await page.evaluate(() => (window as any).jupyterapp.restored);
    }

    /** Shuts down every kernel of the server (REST API). */
    async function shutdownKernels(): Promise<void> {
      const ks = (await (await fetch(`${base}/api/kernels?token=${token}`)).json()) as { id: string }[];
      for (const k of ks) await fetch(`${base}/api/kernels/${k.id}?token=${token}`, { method: 'DELETE' });
    }

    after(async () => {
      await context?.close().catch(() => undefined);
      await server?.stop();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('serves the prebuilt extension in the page config; the front end loads it and shares @jupyter-widgets/base', async () => {
      const html = await (await fetch(`${base}/lab?token=${token}`)).text();
      const config = JSON.parse(/<script id="jupyter-config-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]) as {
        federated_extensions: { name: string; load: string; extension?: string }[];
        appVersion: string;
      };
      assert.deepEqual(
        config.federated_extensions.find((e) => e.name === 'flowlens-widgets'),
        { name: 'flowlens-widgets', load: committedExt.jupyterlab._build.load, extension: './extension' },
        'the page config lists the installed prebuilt extension',
      );
      assert.ok(config.appVersion.startsWith(`${major}.`), `JupyterLab ${major}.x (got ${config.appVersion})`);
      await openLab();
      const state = await page.evaluate(() => {
        const app = (window as any).jupyterapp;
        const id = 'flowlens-widgets:plugin';
        return {
          version: app.version as string,
          has: app.hasPlugin(id) as boolean,
          active: typeof app.isPluginActivated === 'function' ? (app.isPluginActivated(id) as boolean) : null,
          container: typeof (window as any)._JUPYTERLAB?.['flowlens-widgets']?.get === 'function',
        };
      });
      assert.ok(state.version.startsWith(`${major}.`), `front end version ${state.version}`);
      assert.ok(state.has, 'the flowlens-widgets plugin is registered');
      assert.notEqual(state.active, false, 'and activated');
      assert.ok(state.container, 'the module-federation container window._JUPYTERLAB["flowlens-widgets"] was loaded');
      assert.ok(
        extRequests.some((r) => r.url.endsWith(committedExt.jupyterlab._build.load) && r.status === 200),
        `remoteEntry fetched from /lab/extensions/flowlens-widgets/ (requests: ${JSON.stringify(extRequests)})`,
      );
      await page.screenshot({ path: path.join(shots, `lab${major}-start.png`) });
    });

    for (const nb of notebooksFor(major)) {
      it(`${nb}: runs all cells, every widget is live, each interactive widget answers`, async () => {
        const file = `lab${major}-${nb}`;
        const name = nb.replace(/\.ipynb$/, '');
        const expected = expectedViews(path.join(root, 'notebooks', nb));
        const t0 = Date.now();
        // A fresh front end per notebook (the previous notebook's kernel is shut down below).
        await openLab();
        await page.evaluate((p) => (window as any).jupyterapp.commands.execute('docmanager:open', { path: p, factory: 'Notebook' }), file);
        await page.waitForFunction(
          (p) => {
            const w = (window as any).jupyterapp.shell.currentWidget;
            return w?.context?.path === p && w.sessionContext?.session?.kernel?.status === 'idle';
          },
          file,
          { timeout: 180_000, polling: 500 },
        );
        const panelId = await page.evaluate(() => {
          const w = (window as any).jupyterapp.shell.currentWidget;
          w.node.setAttribute('data-flowlens-test', 'panel');
          return { id: w.id as string, kernel: w.sessionContext.session.kernel.name as string };
        });
        assert.equal(panelId.kernel, 'flowlens', 'the notebook runs on the flowlens kernel');
        const panel = page.locator(`[data-flowlens-test="panel"][id="${panelId.id}"]`);
        await page.evaluate(() => (window as any).jupyterapp.commands.execute('notebook:run-all-cells'));
        await page
          .waitForFunction(
            () => {
              const w = (window as any).jupyterapp.shell.currentWidget;
              const cells = w.content.widgets.filter((c: any) => c.model.type === 'code');
              return (
                cells.every((c: any) => typeof c.model.executionCount === 'number' && c.model.executionCount > 0) &&
                w.sessionContext.session.kernel.status === 'idle'
              );
            },
            undefined,
            { timeout: 600_000, polling: 1000 },
          )
          .catch(async (e) => {
            await page.screenshot({ path: path.join(shots, `${file}-timeout.png`) });
            throw new Error(`${nb}: cells did not finish: ${e}\nserver log:\n${(server?.log ?? '').slice(-3000)}`);
          });
        const ran = (Date.now() - t0) / 1000;
        // tslab reports a failing cell as an error output or on stderr.
        const failures = await page.evaluate(() =>
          (window as any).jupyterapp.shell.currentWidget.content.widgets.flatMap((c: any) =>
            c.model.type === 'code'
              ? (c.model.outputs.toJSON() as any[])
                  .filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'))
                  .map((o) => JSON.stringify(o).slice(0, 500))
              : [],
          ),
        );
        assert.deepEqual(failures, [], `${nb}: no errors in the outputs`);
        for (const [cls, n] of Object.entries(expected)) {
          await panel
            .locator(`.${cls}`)
            .nth(n - 1)
            .waitFor({ state: 'attached', timeout: 60_000 })
            .catch(() => {
              throw new Error(`${nb}: expected ${n} live ${cls} view(s) (console errors: ${consoleErrors.join(' | ')})`);
            });
          // At least one live view per constructor call in the source (a call in a loop makes more).
          assert.ok((await panel.locator(`.${cls}`).count()) >= n, `${nb}: ${n} or more live ${cls} view(s)`);
        }
        // plotly (copied into the extension's static folder by the installer) drew the plotly views.
        for (const cls of ['flowlens-curves-widget', 'flowlens-iba-widget'].filter((c) => expected[c])) {
          await panel.locator(`.${cls} .main-svg`).first().waitFor({ state: 'attached', timeout: 60_000 });
        }
        assert.ok(
          extRequests.some((r) => r.url.endsWith('/static/plotly.min.js') && r.status === 200) ||
            !(expected['flowlens-curves-widget'] || expected['flowlens-iba-widget']),
          'plotly.min.js came from the extension folder',
        );
        await panel.screenshot({ path: path.join(shots, `${file.replace(/\.ipynb$/, '')}.png`) });
        const done: string[] = [];

        if (expected['flowlens-attention-maps-widget']) {
          const maps = panel.locator('.flowlens-attention-maps-widget').first();
          const layer = Number(await maps.locator('.flowlens-attention-maps').getAttribute('data-layer'));
          const to = layer === 0 ? 1 : 0;
          await maps.locator('input.flowlens-layer-slider').fill(String(to));
          await maps.locator(`.flowlens-attention-maps[data-layer="${to}"]`).waitFor({ timeout: 30_000 });
          await maps.screenshot({ path: path.join(shots, `lab${major}-${name}-attention-maps-slider.png`) });
          done.push('slider');
        }

        // A saliency view with several methods has a picker with several options.
        const sals = panel.locator('.flowlens-saliency-widget');
        const withMethods = (await sals.evaluateAll((els) => els.map((e) => e.querySelectorAll('select.flowlens-method-picker option').length))).findIndex(
          (n) => n > 1,
        );
        if (withMethods >= 0) {
          const sal = sals.nth(withMethods);
          const picker = sal.locator('select.flowlens-method-picker');
          const options = await picker.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
          const current = await picker.inputValue();
          const other = options.find((o) => o !== current)!;
          // JupyterLab 4 renders only the cells near the viewport: bring the view into it first.
          await sal.scrollIntoViewIfNeeded();
          await picker.selectOption(other);
          // Wait for the drawing of the picked method (a state sync from the kernel may redraw the
          // view in between, so a changed drawing alone is not yet the picked one).
          await page
            .waitForFunction(
              ([el, m]) => (el as Element).querySelector('.flowlens-saliency')?.textContent?.includes(m as string),
              [await sal.elementHandle(), other] as const,
              { timeout: 60_000, polling: 250 },
            )
            .catch(async (e) => {
              throw new Error(
                `${nb}: picked ${other}, the view shows ${JSON.stringify(await sal.locator('.flowlens-saliency').textContent())}, picker ${await picker.inputValue()}: ${e}`,
              );
            });
          done.push('method picker');
        }

        if (expected['flowlens-head-mask-widget']) {
          const grid = panel.locator('.flowlens-head-mask-widget').first();
          const sal = panel.locator('.flowlens-saliency-widget .flowlens-saliency');
          const before = await sal.evaluateAll((els) => els.map((e) => e.innerHTML));
          // A head of the last layer (masking a first-layer head of the 2-layer SST-2 model leaves
          // song2024's Mask-LRP scores as they were drawn).
          const last = Math.max(...(await grid.locator('[data-layer][data-head]').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('data-layer'))))));
          await grid.locator(`[data-layer="${last}"][data-head="0"]`).click();
          await page
            .waitForFunction(
              ([g, b]) => {
                const now = [...document.querySelectorAll('[data-flowlens-test="panel"] .flowlens-saliency-widget .flowlens-saliency')].map((e) => e.innerHTML);
                return (
                  (g as Element).querySelector('.flowlens-masked-count')?.textContent === '1' && now.filter((h, i) => h !== (b as string[])[i]).length === 1
                );
              },
              [await grid.elementHandle(), before] as const,
              { timeout: 180_000, polling: 500 },
            )
            .catch(async (e) => {
              await page.screenshot({ path: path.join(shots, `lab${major}-${name}-head-mask-timeout.png`) });
              const now = await sal.evaluateAll((els) => els.map((el) => el.innerHTML));
              throw new Error(
                `${nb}: head click: ${e}; grid says ${JSON.stringify(await grid.innerText())}; saliency views changed: ${now.map((h, i) => h !== before[i])}`,
              );
            });
          await grid.screenshot({ path: path.join(shots, `lab${major}-${name}-head-mask-clicked.png`) });
          await grid.scrollIntoViewIfNeeded();
          await page.screenshot({ path: path.join(shots, `lab${major}-${name}-head-mask-page.png`) });
          done.push('head click → saliency recomputed');
        }

        if (expected['flowlens-influence-widget']) {
          const graph = panel.locator('.flowlens-influence-widget').first();
          // The top node of the pattern (drawn larger, r = 7) in the highest layer row.
          const node = await graph.locator('circle.flowlens-node[r="7"]').evaluateAll((cs) => {
            const top = cs
              .map((c) => ({ layer: Number(c.getAttribute('data-layer')), position: Number(c.getAttribute('data-position')) }))
              .sort((a, b) => b.layer - a.layer)[0];
            return top;
          });
          assert.ok(node && node.layer > 0, 'the pattern reaches a layer above the embeddings');
          await graph.locator(`circle.flowlens-node[data-layer="${node.layer}"][data-position="${node.position}"]`).click();
          await graph.locator('.flowlens-breakdown').waitFor({ timeout: 180_000 });
          assert.match(await graph.locator('.flowlens-breakdown').innerHTML(), new RegExp(`heads of layer ${node.layer} `));
          await graph.screenshot({ path: path.join(shots, `lab${major}-${name}-influence-clicked.png`) });
          done.push('node click → head breakdown');
        }

        if (expected['flowlens-iba-widget']) {
          const iba = panel.locator('.flowlens-iba-widget').first();
          const plot = iba.locator('.flowlens-plotly');
          const fig = () =>
            plot.evaluate((el: any) => ({
              z: JSON.stringify(el.data?.[0]?.z),
              y: JSON.stringify(el.data?.[1]?.y),
              title: String(el.layout?.title?.text ?? ''),
              axis: String(el.layout?.yaxis2?.title?.text ?? ''),
            }));
          // The kernel sets the status line while it recomputes: record every text it shows, including
          // one replaced before the observer's callback ran (two messages handled in one task).
          await iba.evaluate((el) => {
            const w = window as any;
            w.__flowlensIbaStatus = [];
            const status = el.lastElementChild as HTMLElement;
            new MutationObserver((records) => {
              for (const r of records) {
                if (r.type === 'characterData' && r.oldValue !== null) w.__flowlensIbaStatus.push(r.oldValue);
                r.removedNodes.forEach((n) => w.__flowlensIbaStatus.push(n.textContent));
              }
              w.__flowlensIbaStatus.push(status.textContent);
            }).observe(status, { childList: true, characterData: true, characterDataOldValue: true, subtree: true });
          });
          const f0 = await fig();
          const beta0 = Number(await iba.locator('input.flowlens-beta').inputValue());
          const beta1 = beta0 * 100;
          await iba.locator('input.flowlens-beta').fill(String(beta1));
          await iba.locator('input.flowlens-beta').dispatchEvent('change');
          await page
            .waitForFunction(
              ([el, z0, b]) => {
                const p = (el as any).querySelector('.flowlens-plotly');
                const status = (el as Element).lastElementChild?.textContent ?? '';
                return status === '' && JSON.stringify(p?.data?.[0]?.z) !== z0 && String(p?.layout?.title?.text ?? '').includes(`β = ${b}`);
              },
              [await iba.elementHandle(), f0.z, String(beta1)] as const,
              { timeout: 300_000, polling: 500 },
            )
            .catch(async (e) => {
              await page.screenshot({ path: path.join(shots, `lab${major}-${name}-iba-beta-timeout.png`) });
              const f1 = await fig();
              const status = await page.evaluate(() => (window as any).__flowlensIbaStatus);
              throw new Error(
                `${nb}: β ${beta0} → ${beta1}: ${e}; title ${JSON.stringify(f1.title)}, z changed ${f1.z !== f0.z}, status lines ${JSON.stringify(status)}, input ${await iba.locator('input.flowlens-beta').inputValue()}`,
              );
            });
          // The rows' names as the picker shows them (ibaLayers: 'embeddings', 'layer 1', …).
          const names = await iba.locator('select.flowlens-layer option').evaluateAll((os) => os.map((o) => o.textContent ?? ''));
          const layers = names.length;
          const current = Number(await iba.locator('select.flowlens-layer').inputValue());
          const to = current === 0 ? layers - 1 : 0;
          await iba.locator('select.flowlens-layer').selectOption(String(to));
          await page.waitForFunction(
            ([el, l, name]) => {
              const p = (el as any).querySelector('.flowlens-plotly');
              const status = (el as Element).lastElementChild?.textContent ?? '';
              const z = p?.data?.[0]?.z;
              return (
                status === '' &&
                String(p?.layout?.yaxis2?.title?.text ?? '').startsWith(`${name as string} (`) &&
                JSON.stringify(p?.data?.[1]?.y) === JSON.stringify(z?.[l as number])
              );
            },
            [await iba.elementHandle(), to, names[to]] as const,
            { timeout: 300_000, polling: 500 },
          );
          const statuses = (await page.evaluate(() => (window as any).__flowlensIbaStatus)) as string[];
          assert.ok(
            statuses.some((s) => s.startsWith(`recomputing (β = ${beta1}, ${names[current]})`)),
            `the kernel recomputed for the new β (status lines: ${JSON.stringify(statuses)})`,
          );
          assert.ok(
            statuses.some((s) => s.startsWith(`recomputing (β = ${beta1}, ${names[to]})`)),
            `the kernel recomputed for the new layer (status lines: ${JSON.stringify(statuses)})`,
          );
          await iba.screenshot({ path: path.join(shots, `lab${major}-${name}-iba-recomputed.png`) });
          done.push('β and layer → recompute');
        }

        console.log(
          `JupyterLab ${major}, ${nb}: ran in ${ran.toFixed(0)} s; live views ${JSON.stringify(expected)}; interactions: ${done.join(', ') || 'none'}`,
        );
        const relevant = consoleErrors.filter((e) => /flowlens/i.test(e));
        assert.deepEqual(relevant, [], 'no flowlens errors in the browser console');
        // Shut the kernel down before the next notebook (two cores).
        await shutdownKernels();
      });
    }
  });
}
