/**
 * `flowlens train <model>`: reproduces an embedded model from a seed. Sub-commands: `agreement`
 * (`src/cli/train-agreement.ts`), `classifier` (`src/cli/train-classifier.ts`), `mlm` (`src/cli/train-mlm.ts`) and
 * `abnar-classifier` (`src/cli/train-abnar.ts`).
 *
 * @module
 */
import type { Command } from 'commander';
import { registerTrainAgreement } from './train-agreement.js';
import { registerTrainClassifier } from './train-classifier.js';
import { registerTrainMlm } from './train-mlm.js';
import { registerTrainAbnar } from './train-abnar.js';

/** Registers `flowlens train` with its `agreement` and `classifier` sub-commands on `program`. */
export function registerTrain(program: Command): void {
  const train = program
    .command('train')
    .description('train an embedded model from a seed (agreement masked LM, SST-2 / TREC classifiers, the pretrained BERT)');
  registerTrainAgreement(train);
  registerTrainClassifier(train);
  registerTrainMlm(train);
  registerTrainAbnar(train);
}
