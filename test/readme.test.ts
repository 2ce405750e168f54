/**
 * The README's library section: every import is from the front door (`flowlens`, `flowlens/widgets`,
 * `flowlens/kernel`), and every example type-checks against the built package's types and runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../src/paths.js';

const root = projectRoot();

/** The ```ts blocks of the README's `## Library` section. */
function libraryExamples(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Library\n');
  assert.ok(start >= 0, 'the README has a "## Library" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

test("the README's library section imports only from 'flowlens'", () => {
  const blocks = libraryExamples();
  assert.ok(blocks.length >= 3, `${blocks.length} examples`);
  for (const b of blocks) {
    const from = [...b.matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]);
    assert.ok(from.length > 0, `an example without imports:\n${b}`);
    for (const f of from) assert.match(f as string, /^flowlens(\/widgets|\/kernel)?$/, `import from '${f}' in:\n${b}`);
  }
});

test("every example of the README's library section type-checks and runs", { timeout: 600_000 }, () => {
  const dir = join(root, 'dist', 'readme-examples'); // inside the package, so 'flowlens' resolves to it by name
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const files = libraryExamples().map((code, i) => {
      const f = join(dir, `example${i + 1}.mts`);
      writeFileSync(f, code);
      return f;
    });
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      skipLibCheck: true,
      rootDir: dir,
      outDir: dir,
      types: ['node'],
    };
    const program = ts.createProgram(files, options);
    const diags = ts
      .getPreEmitDiagnostics(program)
      .map(
        (d) =>
          `${d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
    assert.deepEqual(diags, [], 'the examples type-check against the package types');
    const emitted = program.emit();
    assert.equal(emitted.emitSkipped, false);
    for (const f of files) {
      const js = f.replace(/\.mts$/, '.mjs');
      const out = execFileSync(process.execPath, [js], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.ok(out.trim().length > 0, `${f} printed nothing`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
