/**
 * Interruptible cells with top-level `await`.
 *
 * An interrupt stops JavaScript through `vm`'s `breakOnSigint`, which watches for SIGINT only while
 * a `vm` script call runs. A cell with top-level `await` used to run as an async function: only its
 * code before the first `await` ran inside that call; the rest ran later as promise jobs, where a
 * SIGINT waits until the job ends (a long computation after `await loadModel(...)` could not be
 * interrupted). So such a cell is compiled to a generator instead (each top-level `await x`
 * becomes `(yield x)`), and {@link driveCell} runs every step between two awaits inside its own
 * `vm` call with `breakOnSigint`: the whole cell can be interrupted.
 *
 * The rewrite is a TypeScript transform of the CommonJS cell code (`ts.transpileModule`, target
 * ES2022: nothing else changes) with a source map, composed with the cell's own maps
 * (`kernel/sourceMap.ts`). `await` inside nested functions stays as it is (those are async
 * functions of their own); a cell with a top-level `for await` keeps the async function (its
 * steps after the first `await` then cannot be interrupted).
 */
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { tslabDir } from './converter.js';

const require = createRequire(import.meta.url);

/** The TypeScript API subset used here (tslab's bundled TypeScript). */
type TS = typeof import('typescript');

let tsModule: TS | undefined;
function ts(): TS {
  return (tsModule ??= require(require.resolve('@tslab/typescript-for-tslab', { paths: [tslabDir()] })) as TS);
}

/** A generator version of an async cell. */
export interface GeneratorCell {
  /** `(function* (exports, require) {\n…\n})` text (no call). */
  code: string;
  /** Source map (JSON) from `code` to the async wrapper text it was made from. */
  map: string;
}

/**
 * Rewrites `(async function (exports, require) {\n<cell code>\n})` into a generator function whose
 * top-level awaits are yields.
 * @param wrapped the async wrapper text.
 * @returns the generator text and its map, or undefined when the cell has a top-level `for await`.
 */
export function toGeneratorCell(wrapped: string): GeneratorCell | undefined {
  const t = ts();
  let unsupported = false;
  const transformer: import('typescript').TransformerFactory<import('typescript').SourceFile> = (ctx) => {
    const f = t.factory;
    const visitTop = (node: import('typescript').Node): import('typescript').Node => {
      if (t.isFunctionLike(node) || t.isClassStaticBlockDeclaration(node)) return node; // their awaits are their own
      if (t.isForOfStatement(node) && node.awaitModifier) {
        unsupported = true;
        return node;
      }
      if (t.isAwaitExpression(node)) {
        const inner = t.visitNode(node.expression, visitTop) as import('typescript').Expression;
        return f.createParenthesizedExpression(f.createYieldExpression(undefined, inner));
      }
      return t.visitEachChild(node, visitTop, ctx);
    };
    return (sf) => {
      const stmt = sf.statements[0];
      if (!stmt || !t.isExpressionStatement(stmt) || !t.isParenthesizedExpression(stmt.expression) || !t.isFunctionExpression(stmt.expression.expression)) {
        unsupported = true;
        return sf;
      }
      const fn = stmt.expression.expression;
      const body = t.visitEachChild(fn.body, visitTop, ctx);
      const gen = f.updateFunctionExpression(
        fn,
        fn.modifiers?.filter((m) => m.kind !== t.SyntaxKind.AsyncKeyword),
        f.createToken(t.SyntaxKind.AsteriskToken),
        fn.name,
        fn.typeParameters,
        fn.parameters,
        fn.type,
        body,
      );
      const out = f.updateExpressionStatement(stmt, f.updateParenthesizedExpression(stmt.expression, gen));
      return f.updateSourceFile(sf, [out, ...sf.statements.slice(1)]);
    };
  };
  const r = t.transpileModule(wrapped, {
    fileName: 'cell.js',
    compilerOptions: {
      target: t.ScriptTarget.ES2022,
      module: t.ModuleKind.None,
      sourceMap: true,
      allowJs: true,
      noImplicitUseStrict: true,
      removeComments: false,
    } as import('typescript').CompilerOptions,
    transformers: { before: [transformer] },
    reportDiagnostics: false,
  });
  if (unsupported || !r.sourceMapText) return undefined;
  const code = r.outputText.replace(/^\/\/# sourceMappingURL=.*$/gm, '').replace(/;\s*$/, '');
  return { code, map: r.sourceMapText };
}

/** Where {@link driveCell} puts the step function that its `vm` script calls. */
const STEP = Symbol.for('flowlens.kernel.step');
const stepScript = new vm.Script(`globalThis[Symbol.for('flowlens.kernel.step')]()`, { filename: 'flowlens-kernel-step' });

/**
 * Runs a generator cell to its end: each step inside a `vm` call with `breakOnSigint` (a SIGINT
 * ends the step with `ERR_SCRIPT_EXECUTION_INTERRUPTED`), each yielded value awaited, racing
 * `interrupted` (which rejects when the kernel is interrupted while the cell awaits).
 * @param gen the cell's generator (its function called with `(exports, require)`).
 * @throws what the cell throws, or the interrupt error.
 */
export async function driveCell(gen: Generator<unknown, unknown, unknown>, interrupted: Promise<never>): Promise<void> {
  const g = globalThis as Record<symbol, unknown>;
  let input: { ok: true; value: unknown } | { ok: false; error: unknown } = { ok: true, value: undefined };
  for (;;) {
    const step = input;
    g[STEP] = () => (step.ok ? gen.next(step.value) : gen.throw(step.error));
    let r: IteratorResult<unknown, unknown>;
    try {
      r = stepScript.runInThisContext({ breakOnSigint: true }) as IteratorResult<unknown, unknown>;
    } finally {
      delete g[STEP];
    }
    if (r.done) return;
    try {
      input = { ok: true, value: await Promise.race([r.value, interrupted]) };
    } catch (e) {
      if ((e as { code?: string } | null)?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
        gen.return(undefined);
        throw e;
      }
      input = { ok: false, error: e };
    }
  }
}

/**
 * Runs `fn` inside a `vm` call with `breakOnSigint`, so that its synchronous part (e.g. a widget's
 * recomputation started by a comm message) can be interrupted like a cell.
 * @returns what `fn` returns.
 * @throws what `fn` throws, or an error with code `ERR_SCRIPT_EXECUTION_INTERRUPTED`.
 */
export function runInterruptible<T>(fn: () => T): T {
  const g = globalThis as Record<symbol, unknown>;
  g[STEP] = fn;
  try {
    return stepScript.runInThisContext({ breakOnSigint: true }) as T;
  } finally {
    delete g[STEP];
  }
}
