/**
 * Every notebook in `notebooks/` (globbed, so notebooks added later are covered) executes top to
 * bottom on the flowlens kernel with `jupyter nbconvert --to notebook --execute` (kernelspec
 * written into a temporary JUPYTER_PATH), a failing cell fails the test, and the executed notebook
 * converted with `jupyter nbconvert --to html` contains every widget's static figure.
 *
 * Execution uses `--ExecutePreprocessor.store_widget_state=False`: with stored widget state
 * nbconvert's HTML would show the widget views through a manager loaded from unpkg.com instead of
 * the static renderings (see kernel/README.md, "Publishing").
 *
 * Skipped, with a message, only when no `jupyter nbconvert` is found (FLOWLENS_JUPYTER picks the
 * `jupyter` executable).
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempJupyter } from './helpers/jupyterEnv.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');
const notebooksDir = path.join(root, 'notebooks');

/** A `jupyter` executable whose nbconvert runs, or undefined. */
function findJupyter(): string | undefined {
  for (const j of [process.env.FLOWLENS_JUPYTER, 'jupyter', '/usr/bin/jupyter'].filter((p): p is string => !!p)) {
    const r = spawnSync(j, ['nbconvert', '--version'], { stdio: 'ignore' });
    if (r.status === 0) return j;
  }
  return undefined;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, cwd });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const jupyter = findJupyter();
const notebooks = existsSync(notebooksDir)
  ? readdirSync(notebooksDir)
      .filter((f) => f.endsWith('.ipynb'))
      .sort()
  : [];
const distBuilt = existsSync(path.join(root, 'dist', 'widgets', 'protocol.js'));

interface Output {
  output_type: string;
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
  name?: string;
  text?: string | string[];
}
const text = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join('') : (v ?? ''));

describe(
  'notebooks execute on the flowlens kernel and keep their figures in HTML',
  {
    skip: !jupyter
      ? 'no `jupyter nbconvert`: apt-get install jupyter-nbconvert python3-nbclient jupyter-notebook (kernel/apt-packages.txt)'
      : !distBuilt
        ? 'dist/ not built (npm run build)'
        : false,
    // Each notebook has its own limit (below); the suite's grows with the number of notebooks.
    timeout: 60_000 + notebooks.length * 420_000,
  },
  () => {
    let tmp = '';
    let env: NodeJS.ProcessEnv = {};

    before(() => {
      ({ tmp, env } = tempJupyter('flowlens-nb-'));
    });
    after(() => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('finds the notebooks', () => {
      assert.ok(notebooks.includes('tour.ipynb'), `notebooks/ has ${notebooks.join(', ') || 'nothing'}`);
      assert.ok(notebooks.includes('abnar2020-attention-flow.ipynb'));
    });

    it('a failing cell fails the execution (so CI fails), and the error text is reported', async () => {
      const nb = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: 'flowlens', display_name: 'flowlens (TypeScript)', language: 'typescript' } },
        cells: ['const ok: number = 1;', "throw new Error('deliberate failure in cell 2');", 'console.log("never runs");'].map((source, i) => ({
          cell_type: 'code',
          id: `c${i}`,
          metadata: {},
          execution_count: null,
          outputs: [],
          source,
        })),
      };
      const file = path.join(tmp, 'failing.ipynb');
      writeFileSync(file, JSON.stringify(nb));
      const ex = await run(
        jupyter!,
        ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.startup_timeout=180', '--output-dir', tmp, '--output', 'failing.executed', file],
        env,
        tmp,
        240_000,
      );
      assert.notEqual(ex.code, 0, `nbconvert must fail on a failing cell:\n${ex.out.slice(-2000)}`);
      assert.match(ex.out, /deliberate failure in cell 2/);
      assert.doesNotMatch(ex.out, /never runs/);
    });

    it("a notebook outside the repository imports 'flowlens' and 'flowlens/widgets' (type-checked and run)", { timeout: 300_000 }, async () => {
      const away = mkdtempSync(path.join(os.tmpdir(), 'flowlens-away-'));
      try {
        const cells = [
          "import { loadModel, explain, nodeName, type TokenAttribution } from 'flowlens';\nimport { TokenSaliency } from 'flowlens/widgets';",
          "const loaded = await loadModel('embedded:sst2');\nconst a: TokenAttribution = explain(loaded, 'a gripping , funny film', { method: 'attention_rollout' });\nconsole.log(nodeName('pattern', 0), a.scores.length);",
          "new TokenSaliency({ tokens: a.tokens, scores: a.scores, title: 'from a copied notebook' }).display();",
        ];
        const nb = {
          nbformat: 4,
          nbformat_minor: 5,
          metadata: { kernelspec: { name: 'flowlens', display_name: 'flowlens (TypeScript)', language: 'typescript' } },
          cells: cells.map((source, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source })),
        };
        writeFileSync(path.join(away, 'copied.ipynb'), JSON.stringify(nb));
        const ex = await run(
          jupyter!,
          [
            'nbconvert',
            '--to',
            'notebook',
            '--execute',
            '--ExecutePreprocessor.startup_timeout=180',
            '--ExecutePreprocessor.store_widget_state=False',
            '--output',
            'copied.executed',
            'copied.ipynb',
          ],
          env,
          away,
          240_000,
        );
        assert.equal(ex.code, 0, `executing a notebook in ${away} failed:\n${ex.out.slice(-3000)}`);
        const doc = JSON.parse(readFileSync(path.join(away, 'copied.executed.ipynb'), 'utf8')) as {
          cells: { outputs?: (Output & { text?: string | string[] })[] }[];
        };
        const outs = doc.cells.flatMap((c) => c.outputs ?? []);
        assert.ok(
          outs.some((o) => /blocks\.0\.attn\.hook_pattern \d+/.test(text(o.text))),
          'the cell printed the node name and the score count',
        );
        assert.ok(
          outs.some((o) => text(o.data?.['text/html']).includes('flowlens-saliency')),
          'the widget displayed',
        );
      } finally {
        rmSync(away, { recursive: true, force: true });
      }
    });

    it('rich results: an arquero table as the last expression is an HTML table in the saved notebook and in nbconvert HTML; errors are error outputs', async () => {
      // Under the repository (not tmp), so the kernel, started in the notebook's folder, finds arquero in node_modules.
      const dir = path.join(root, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      const nb = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: 'flowlens', display_name: 'flowlens (TypeScript)', language: 'typescript' } },
        cells: [
          "import * as aq from 'arquero';\nconst results = aq.table({ method: ['rollout', 'flow'], spearman: [0.61, 0.83] });\nresults",
          "({ method: 'blankout', tokens: ['the', 'cats', 'are'], scores: [0.1, 0.7, -0.2], qoi: 'p(are) − p(is)' })",
          'const n: number = 1;\nthrow new RangeError(`bad ${n}`);',
        ].map((source, i) => ({ cell_type: 'code', id: `r${i}`, metadata: {}, execution_count: null, outputs: [], source })),
      };
      const file = path.join(dir, 'rich-results.ipynb');
      writeFileSync(file, JSON.stringify(nb));
      const ex = await run(
        jupyter!,
        [
          'nbconvert',
          '--to',
          'notebook',
          '--execute',
          '--allow-errors',
          '--ExecutePreprocessor.startup_timeout=180',
          '--output-dir',
          tmp,
          '--output',
          'rich-results.executed',
          file,
        ],
        env,
        dir,
        240_000,
      );
      assert.equal(ex.code, 0, ex.out.slice(-3000));
      const doc = JSON.parse(readFileSync(path.join(tmp, 'rich-results.executed.ipynb'), 'utf8')) as {
        cells: { outputs: (Output & { traceback?: string[]; execution_count?: number })[] }[];
      };
      const [table, attribution, failing] = doc.cells.map((c) => c.outputs);
      assert.deepEqual(
        table.map((o) => o.output_type),
        ['execute_result'],
      );
      const html = text(table[0].data!['text/html']);
      assert.match(
        html,
        /<table>.*<th[^>]*>method<\/th>.*<th[^>]*>spearman<\/th>.*<td[^>]*>rollout<\/td>.*<td[^>]*>0\.61<\/td>.*<td[^>]*>flow<\/td>.*<td[^>]*>0\.83<\/td>.*<\/table>/s,
      );
      assert.match(text(table[0].data!['text/plain']), /Table \(2 rows × 2 columns\)/);
      assert.equal(table[0].execution_count, 1);
      assert.deepEqual(
        attribution.map((o) => o.output_type),
        ['execute_result'],
      );
      assert.match(text(attribution[0].data!['text/html']), /class="flowlens-saliency".*blankout: p\(are\) − p\(is\).*>cats</s);
      assert.deepEqual(
        failing.map((o) => [o.output_type, o.ename, o.evalue]),
        [['error', 'RangeError', 'bad 1']],
      );
      assert.match(failing[0].traceback!.join('\n'), /at In\[3\]:2:7/);
      const conv = await run(
        jupyter!,
        ['nbconvert', '--to', 'html', '--output-dir', tmp, '--output', 'rich-results', path.join(tmp, 'rich-results.executed.ipynb')],
        env,
        tmp,
        120_000,
      );
      assert.equal(conv.code, 0, conv.out.slice(-3000));
      const page = readFileSync(path.join(tmp, 'rich-results.html'), 'utf8');
      assert.match(page, /<table>.*<td[^>]*>rollout<\/td>.*<td[^>]*>0\.61<\/td>.*<\/table>/s, 'the HTML page has the table');
      assert.match(page, /Out\[1\]/, "as the cell's result");
      assert.match(page, /class="flowlens-saliency"/);
      assert.match(page, /RangeError/);
    });

    for (const nb of notebooks) {
      it(`${nb}: runs top to bottom, every widget has its static figure in the HTML`, { timeout: 420_000 }, async () => {
        const name = nb.replace(/\.ipynb$/, '');
        const ex = await run(
          jupyter!,
          [
            'nbconvert',
            '--to',
            'notebook',
            '--execute',
            '--ExecutePreprocessor.timeout=300',
            '--ExecutePreprocessor.startup_timeout=180',
            '--ExecutePreprocessor.kernel_name=flowlens',
            '--ExecutePreprocessor.store_widget_state=False',
            '--output-dir',
            tmp,
            '--output',
            `${name}.executed`,
            path.join(notebooksDir, nb),
          ],
          env,
          notebooksDir,
          360_000,
        );
        assert.equal(ex.code, 0, `executing ${nb} failed (a cell raised, or the kernel died):\n${ex.out.slice(-4000)}`);
        const executed = path.join(tmp, `${name}.executed.ipynb`);
        const doc = JSON.parse(readFileSync(executed, 'utf8')) as { cells: { cell_type: string; outputs?: Output[] }[] };
        const outputs = doc.cells.filter((c) => c.cell_type === 'code').flatMap((c) => c.outputs ?? []);
        const errors = outputs.filter((o) => o.output_type === 'error');
        assert.deepEqual(
          errors.map((e) => `${e.ename}: ${e.evalue}`),
          [],
          'no error outputs',
        );
        const widgets = outputs.filter((o) => o.data?.['application/vnd.jupyter.widget-view+json']);
        assert.ok(widgets.length >= 1, `${nb} shows no widget`);
        const kinds = new Set<string>();
        for (const w of widgets) {
          const html = text(w.data!['text/html']);
          const kind = /class="flowlens-widget (flowlens-[a-z-]+)"|class="(flowlens-saliency)"/.exec(html);
          assert.ok(kind, `widget output without a static flowlens figure: ${html.slice(0, 200)}`);
          kinds.add(kind[1] ?? kind[2]);
          assert.doesNotMatch(html, /<script|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'static figures need no script or network');
        }
        const conv = await run(jupyter!, ['nbconvert', '--to', 'html', '--output-dir', tmp, '--output', name, executed], env, tmp, 120_000);
        assert.equal(conv.code, 0, `nbconvert --to html failed:\n${conv.out.slice(-3000)}`);
        const page = readFileSync(path.join(tmp, `${name}.html`), 'utf8');
        for (const k of kinds) assert.ok(page.includes(k), `the HTML lacks the ${k} figure`);
        const figures = (page.match(/class="flowlens-widget flowlens-|class="flowlens-saliency"/g) ?? []).length;
        assert.equal(figures, widgets.length, 'one static figure in the HTML per widget output');
        if (nb === 'tour.ipynb') {
          for (const k of ['flowlens-attention-maps', 'flowlens-saliency', 'flowlens-curves', 'flowlens-head-mask', 'flowlens-influence'])
            assert.ok(kinds.has(k), `the tour shows ${k}`);
          // Its figures explain one QoI: it must show signal (issue 13: |p(good) − p(bad)| ≥ 0.3, right sign).
          const printed = outputs.map((o) => (o.output_type === 'stream' ? text(o.text) : '')).join('');
          const qoi = /p\(are\) − p\(is\) = (-?[0-9.]+)/.exec(printed);
          assert.ok(qoi, `the tour prints its QoI:\n${printed.slice(0, 2000)}`);
          assert.ok(Number(qoi[1]) >= 0.3, `the tour's p(are) − p(is) = ${qoi[1]} (want ≥ 0.3)`);
        }
      });
    }
  },
);
