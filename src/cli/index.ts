#!/usr/bin/env node
/**
 * The `hybridrec` command (a bin of the package, built to dist/cli.js): fit, recommend,
 * similar, complete-basket, evaluate, inspect, serve, runs (see program.ts). Results go to
 * stdout, progress and notes to stderr. Ctrl-C during fit or evaluate aborts the work through
 * its AbortSignal (nothing half-written: model files are written atomically); a second Ctrl-C
 * exits at once.
 */
import { CommanderError } from 'commander';
import { AbortedError, HybridrecError } from '../errors';
import { installWorkerPool } from '../node/pool';
import type { Io } from './commands';
import { program } from './program';

async function main(): Promise<void> {
  // Fits and evaluations use every core (results are identical whatever the thread count).
  installWorkerPool();
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: stopping (Ctrl-C again to quit at once)\n');
    controller.abort();
  });
  const io: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`), signal: controller.signal, argv: process.argv.slice(2) };
  try {
    await program(io).parseAsync(process.argv);
  } catch (e) {
    // commander has already printed its message (or the help).
    if (e instanceof CommanderError) process.exit(e.exitCode);
    if (e instanceof AbortedError) {
      io.err(`aborted: ${e.message}; nothing was written`);
      process.exit(130);
    }
    io.err(e instanceof HybridrecError ? `error: ${e.name}: ${e.message}` : `error: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  }
}

void main();
