/**
 * The one registry of paper reproductions: `flowlens reproduce <name>` has one sub-command per entry
 * of {@link reproductions}, and nothing else lists them. Add a reproduction by writing its file here
 * (options + run, on the library functions of `src/eval/`) and adding it to the map.
 *
 * @module
 */
import type { Command } from 'commander';
import { abnar2020 } from './abnar2020.js';
import { jiang2020 } from './jiang2020.js';
import { lu2021 } from './lu2021.js';
import { song2024 } from './song2024.js';

/** A paper reproduction: its options and what it runs. */
export interface Reproduction {
  description: string;
  /** Adds the reproduction's options to its sub-command. */
  options(cmd: Command): Command;
  /** Runs it with the parsed options. */
  run(opts: Record<string, unknown>): Promise<void>;
}

/** Reproductions under `flowlens reproduce <name>`. Add one here. */
export const reproductions: Record<string, Reproduction> = { abnar2020, lu2021, jiang2020, song2024 };

/** `flowlens reproduce <name>`: one sub-command per entry of {@link reproductions}. */
export function registerReproduce(program: Command): void {
  const rep = program.command('reproduce').description("reproduce a paper's results");
  for (const [name, r] of Object.entries(reproductions)) {
    r.options(rep.command(name).description(r.description)).action(async (opts: Record<string, unknown>) => r.run(opts));
  }
}
