/**
 * Imports run one way: backend/io/data → model → methods → eval → (train) → the front door → kernel →
 * widgets → cli. A file may import from its own layer or a lower one, never a higher one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../src/paths.js';

const root = projectRoot();

/** Layer of a source file (lower = more basic); undefined for files outside the library (tests, benchmarks). */
function layer(rel: string): number | undefined {
  const order: [RegExp, number][] = [
    [/^src\/(errors|paths)\.ts$/, 0],
    [/^src\/backend\//, 0],
    [/^src\/(io|data|viz)\//, 1],
    [/^src\/model\//, 2],
    [/^src\/methods\//, 3],
    [/^src\/eval\//, 4],
    [/^src\/train\//, 5],
    [/^src\/index\.ts$/, 6],
    // The kernel process's entry (start.ts, main.ts) composes the kernel with the widgets: top layer, as the CLI.
    [/^kernel\/(start|main)\.ts$/, 9],
    [/^kernel\//, 7],
    [/^widgets\//, 8],
    [/^src\/cli\//, 9],
  ];
  return order.find(([re]) => re.test(rel))?.[1];
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('imports only run downward (model → methods → eval → cli; kernel and widgets on top, widgets on the kernel)', () => {
  const upward: string[] = [];
  let checked = 0;
  for (const f of ['src', 'kernel', 'widgets'].flatMap((d) => files(join(root, d)))) {
    const rel = relative(root, f).split('\\').join('/');
    if (rel.startsWith('widgets/frontend/') || rel.startsWith('widgets/lab/')) continue; // browser code, bundled separately
    const from = layer(rel);
    if (from === undefined) continue;
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
      const spec = (m[1] ?? m[2]) as string;
      const target = relative(root, resolve(dirname(f), spec))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts');
      const to = layer(target);
      checked++;
      if (to !== undefined && to > from) upward.push(`${rel} → ${target}`);
    }
  }
  assert.ok(checked > 300, `${checked} imports checked`);
  assert.deepEqual(upward, []);
});
