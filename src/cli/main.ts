#!/usr/bin/env node
/**
 * The `flowlens` command line. `npm start` runs the main job, `flowlens reproduce abnar2020`.
 *
 * Extension points (add an entry, nothing else to change):
 * - {@link commands}: top-level commands (`reproduce`; add `train`, `kernel`, …): a function that
 *   registers its commander sub-command on the program.
 * - `reproductions` in `src/cli/reproduce/index.ts`: the paper reproductions under `flowlens reproduce <name>`.
 *
 * @module
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { registerReproduce } from './reproduce/index.js';
import { registerKernel } from './kernel.js';
import { registerFigure } from '../../widgets/cli.js';
import { registerTrain } from './train.js';
import { registerData } from './data.js';
import { registerEval } from './eval.js';

/** Registers one top-level command on the program. */
export type CommandRegistrar = (program: Command) => void;

/** Top-level commands. Add `train`, `kernel`, … here. */
export const commands: Record<string, CommandRegistrar> = {
  reproduce: registerReproduce,
  kernel: registerKernel,
  figure: registerFigure,
  train: registerTrain,
  data: registerData,
  eval: registerEval,
};

/** The commander program with every command of {@link commands}. */
export function buildProgram(): Command {
  const program = new Command('flowlens').description('How information flows through BERT-family transformers').showHelpAfterError();
  for (const register of Object.values(commands)) register(program);
  return program;
}

/**
 * Parses `argv` and runs the command; errors print as one line and exit code 1.
 * @param argv as `process.argv` (node, script, args…).
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    console.error(`flowlens: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}

const invokedDirectly = (() => {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) void main();
