/**
 * The loader against corrupted checkpoints and interrupted saves: NaN/Inf weights are rejected at load,
 * naming the tensor; a save killed half-way leaves a hidden temporary folder that the next save removes.
 * (Hub timeouts and retries: test/hub.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bert, BertParams, CheckpointError, initBackend, loadModel, makeBertConfig, readSafetensorsHeader, saveModel } from '../src/index.js';
import { cleanStaleTemps } from '../src/io/atomicFolder.js';

const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'cats', 'sleeps', 'sleep', '.', 'dog'];

function savedModel(dir: string): string {
  const config = makeBertConfig({
    vocabSize: vocab.length,
    hiddenSize: 16,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 32,
    maxPositionEmbeddings: 16,
    architectures: ['BertForMaskedLM'],
  });
  const model = new Bert(config, 'mlm', BertParams.random(config, 'mlm', 4));
  const m = join(dir, 'm');
  saveModel(m, model, config, vocab);
  model.dispose();
  return m;
}

/** Overwrites value `index` of tensor `name` (F32) in a safetensors file. */
function poke(file: string, name: string, index: number, value: number): void {
  const buf = readFileSync(file);
  const h = readSafetensorsHeader(file);
  const info = [...h.tensors].find(([n]) => n.endsWith(name))?.[1];
  assert.ok(info && info.dtype === 'F32', `tensor ${name} in ${file}`);
  buf.writeFloatLE(value, h.dataStart + info.dataOffsets[0] + 4 * index);
  writeFileSync(file, buf);
}

test('NaN or infinite weights are rejected at load with a CheckpointError naming the file and tensor', async () => {
  await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-nan-'));
  try {
    const m = savedModel(dir);
    const file = join(m, 'model.safetensors');
    const clean = readFileSync(file);
    poke(file, 'encoder.layer.1.attention.self.query.weight', 7, NaN);
    await assert.rejects(
      loadModel(m),
      (e: Error) =>
        e instanceof CheckpointError &&
        e.message.includes(file) &&
        /tensor "encoder\.layer\.1\.attention\.self\.query\.weight" has 1 non-finite value \(the first, NaN, at flat index 7 of 256\)/.test(e.message),
    );
    writeFileSync(file, clean);
    poke(file, 'embeddings.word_embeddings.weight', 3, Infinity);
    poke(file, 'embeddings.word_embeddings.weight', 5, -Infinity);
    await assert.rejects(loadModel(m), /tensor "embeddings\.word_embeddings\.weight" has 2 non-finite values \(the first, Infinity, at flat index 3/);
    writeFileSync(file, clean);
    const ok = await loadModel(m); // the clean file loads
    ok.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a save killed half-way leaves a hidden temporary folder; the next save removes it', { timeout: 120_000 }, async () => {
  await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-kill-'));
  try {
    const m = savedModel(dir);
    const before = readFileSync(join(m, 'model.safetensors'));
    // A writer that writes part of a file into its temporary folder, then hangs until killed.
    const mod = pathToFileURL(join(import.meta.dirname, '..', 'src', 'io', 'atomicFolder.js')).href;
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { writeFolderAtomic } from ${JSON.stringify(mod)};
      import { writeFileSync } from 'node:fs';
      import { join } from 'node:path';
      writeFolderAtomic(${JSON.stringify(m)}, (tmp) => {
        writeFileSync(join(tmp, 'model.safetensors'), Buffer.alloc(1000));
        console.log('written');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
      });
    `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('written') && resolve()));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const leftovers = () => readdirSync(dir).filter((e) => e.startsWith('.m.tmp-'));
    assert.equal(leftovers().length, 1, 'the killed save left its hidden temporary folder');
    assert.deepEqual(readFileSync(join(m, 'model.safetensors')), before, 'the model folder itself is untouched');
    // The next save cleans up, and the folder loads.
    savedModel(dir);
    assert.deepEqual(leftovers(), []);
    const again = await loadModel(m);
    again.model.dispose();
    // A process killed between moving the old folder aside and moving the new one in: the old folder comes back.
    const deadPid = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).trim());
    const { renameSync } = await import('node:fs');
    renameSync(m, join(dir, `.m.old-${deadPid}-x`));
    assert.deepEqual(cleanStaleTemps(m), [join(dir, `.m.old-${deadPid}-x`)]);
    assert.ok(existsSync(join(m, 'config.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
