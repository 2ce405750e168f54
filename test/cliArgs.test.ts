import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { intAtLeast, openUnitInterval, positiveNumber, probabilityBelowOne } from '../src/cli/args.js';
import { EMBEDDED_SETTINGS, registerTrainClassifier } from '../src/cli/train-classifier.js';
import { pretrainSettingsFor } from '../src/cli/train-mlm.js';
import { PRETRAIN_DEFAULTS } from '../src/train/pretrain/trainer.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('option parsers accept their range and name the option and value otherwise', () => {
  assert.equal(probabilityBelowOne('--p')('0'), 0);
  assert.equal(probabilityBelowOne('--p')('0.15'), 0.15);
  assert.throws(() => probabilityBelowOne('--p')('1'), /--p must be in \[0, 1\), got "1"/);
  assert.throws(() => probabilityBelowOne('--p')('-0.1'), /--p must be in \[0, 1\)/);
  assert.throws(() => probabilityBelowOne('--p')('x'), /got "x"/);
  assert.equal(intAtLeast('--n', 1)('3'), 3);
  assert.throws(() => intAtLeast('--n', 1)('0'), /--n must be an integer ≥ 1, got "0"/);
  assert.throws(() => intAtLeast('--n', 1)('2.5'), /integer/);
  assert.throws(() => positiveNumber('--lr')('0'), /--lr must be a positive number/);
  assert.throws(() => openUnitInterval('--q')('1'), /\(0, 1\)/);
});

/** Parses `args` with `flowlens train classifier`'s options; returns the options or the error message. */
function parseTrainClassifier(args: string[]): { opts?: Record<string, unknown>; error?: string } {
  const train = new Command('train').exitOverride();
  let opts: Record<string, unknown> | undefined;
  let error = '';
  const cmd = registerTrainClassifier(train)
    .exitOverride()
    .configureOutput({ writeErr: (s) => (error += s), writeOut: () => {} });
  cmd.action((o: Record<string, unknown>) => {
    opts = o;
  });
  try {
    train.parse(['classifier', ...args], { from: 'user' });
  } catch {
    return { error };
  }
  return { opts };
}

test('train classifier: option values are checked before anything runs; defaults are the embedded settings', () => {
  assert.match(parseTrainClassifier(['--data', 'sst2', '--unseen-word-dropout', '1']).error ?? '', /--unseen-word-dropout must be in \[0, 1\)/);
  assert.match(parseTrainClassifier(['--data', 'sst2', '--min-count', '0']).error ?? '', /--min-count must be an integer ≥ 1/);
  assert.match(parseTrainClassifier(['--data', 'sst2', '--pretrain-text', 'wiki']).error ?? '', /--pretrain-text.*train, train\+brown/s);
  assert.match(parseTrainClassifier([]).error ?? '', /--data/);
  const ok = parseTrainClassifier(['--data', 'trec', '--min-count', '3', '--pretrain-text', 'train']).opts!;
  assert.equal(ok.minCount, 3);
  assert.equal(ok.pretrainText, 'train');
  assert.equal(ok.unseenWordDropout, undefined, 'unset: the command fills in EMBEDDED_SETTINGS');
  for (const s of Object.values(EMBEDDED_SETTINGS)) {
    assert.ok(s.minCount >= 1 && s.unseenWordDropout >= 0 && s.unseenWordDropout < 1 && s.epochs >= 1);
  }
});

test('train mlm --resume takes the checkpoint’s settings; options given override them; a broken trainer.json is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-resume-settings-'));
  try {
    const ck = join(dir, 'trainer');
    mkdirSync(ck);
    writeFileSync(join(ck, 'trainer.json'), JSON.stringify({ step: 1250, settings: { ...PRETRAIN_DEFAULTS, batchSize: 64, warmup: 150, steps: 2500 } }));
    const resumed = pretrainSettingsFor({ steps: 12000 }, [join(dir, 'missing'), ck]);
    assert.deepEqual(resumed, { ...PRETRAIN_DEFAULTS, batchSize: 64, warmup: 150, steps: 12000 });
    assert.deepEqual(pretrainSettingsFor({ lr: 5e-4 }, []), { ...PRETRAIN_DEFAULTS, lr: 5e-4 }, 'a new run: the defaults');
    writeFileSync(join(ck, 'trainer.json'), '{ not json');
    assert.throws(() => pretrainSettingsFor({}, [ck]), /cannot read the checkpoint's settings from .*trainer\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
