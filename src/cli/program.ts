/** The commands and flags of `hybridrec` (commander), writing through an Io so tests can run them in process. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { LIBRARY_VERSION } from '../index';
import {
  PROTOCOLS,
  completeBasketCommand,
  evaluateCommand,
  fitCommand,
  inspectCommand,
  recommendCommand,
  runsCompareCommand,
  runsListCommand,
  similarCommand,
  type Io,
} from './commands';
import { DEFAULT_STRATEGIES, STRATEGY_NAMES } from './strategies';

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return Number(text);
  };
}

/** Flags of the commands that read training data. */
function dataOptions(cmd: Command): Command {
  return cmd
    .option('--instacart <dir>', 'a Kaggle Instacart folder (orders.csv, order_products__*.csv, products.csv, ...; .csv.gz too)')
    .option('--csv <file>', 'an interactions file: one row per purchase or event')
    .option('--synthetic', 'the seeded synthetic grocery generator')
    .option('--user-col <name>', 'CSV column of the user id', 'user_id')
    .option('--item-col <name>', 'CSV column of the item id', 'item_id')
    .option('--weight-col <name>', 'CSV column of a positive weight (count, rating); 1 when absent')
    .option('--basket-col <name>', 'CSV column of the basket (order, session) id')
    .option('--time-col <name>', 'CSV column of the time (Unix seconds or ISO-8601)')
    .option('--delimiter <char>', 'CSV field separator', ',')
    .option('--skip-bad-rows', 'skip malformed rows (counted and reported) instead of stopping at the first')
    .option('--users <n>', 'synthetic: shoppers', integer(1), 2000)
    .option('--products <n>', 'synthetic: products', integer(1), 1500)
    .option('--data-seed <n>', 'synthetic: seed of the generator', integer(0), 42);
}

function modelOptions(cmd: Command): Command {
  return cmd
    .option('--strategies <list>', `comma-separated, from ${STRATEGY_NAMES.join(', ')}`, DEFAULT_STRATEGIES)
    .option('--weights <spec>', "'tune' (on a validation split carved from the training data), 'equal', or name=weight,...", 'tune')
    .option('--seed <n>', 'seed of every random choice of the fit', integer(0), 42);
}

export function program(io: Io): Command {
  const p = new Command('hybridrec')
    .description('Product recommendations from purchase history: fit, query, evaluate, inspect and serve hybridrec models.')
    .version(LIBRARY_VERSION)
    .showHelpAfterError()
    // Parse errors, --help and --version throw a CommanderError (main exits with its code), so program() never exits the process itself.
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  modelOptions(dataOptions(p.command('fit').description('fit an ensemble on your data and write a .hrec model file')))
    .requiredOption('-o, --out <file>', 'model file to write (.hrec)')
    .option('--serving', 'write a serving artifact: no user ids or purchase histories (save({ customerData: false })); requests bring the history')
    .option('--runs <dir>', 'append a run record to <dir>/runs.jsonl')
    .option('-q, --quiet', 'no progress bars')
    .action((flags) => fitCommand(flags, io));

  const query = (cmd: Command) =>
    cmd
      .option('-k, --k <n>', 'how many items', integer(1, 100_000), 10)
      .option('--explain', 'show the main reason of each item')
      .option('--json', 'print JSON instead of a table');

  query(p.command('recommend').description('recommendations for a known user, or for a history and cart given on the command line').argument('<model>', '.hrec file'))
    .option('--user <id>', 'a user id the model knows')
    .option('--history <ids>', 'comma-separated item ids the shopper bought (repeats count)')
    .option('--basket <ids>', 'comma-separated item ids in the current cart')
    .action((model, flags) => recommendCommand(model, flags, io));

  query(p.command('similar').description('items bought with an item').argument('<model>', '.hrec file').argument('<item>', 'item id')).action((model, item, flags) =>
    similarCommand(model, item, flags, io),
  );

  query(p.command('complete-basket').description('items to add to a cart').argument('<model>', '.hrec file').argument('<items...>', 'item ids in the cart'))
    .option('--user <id>', 'a known user whose history to use as well')
    .action((model, items, flags) => completeBasketCommand(model, items, flags, io));

  modelOptions(dataOptions(p.command('evaluate').description('fit on a training split of your data and report held-out metrics per strategy and for the ensemble (docs/evaluation.md)')))
    .addOption(new Option('--protocol <name>', 'next-basket (P4), temporal holdout (P1, needs --csv with --time-col), basket-completion (P3)').choices(PROTOCOLS).default('next-basket'))
    .option('-k, --k <n>', 'cutoff K of the metrics', integer(1, 1000), 10)
    .option('--max-queries <n>', 'evaluate only the first n queries (quick runs)', integer(1))
    .option('--runs <dir>', 'append a run record to <dir>/runs.jsonl')
    .option('--json', 'print JSON instead of a table')
    .option('-q, --quiet', 'no progress bars')
    .action((flags) => evaluateCommand(flags, io));

  p.command('inspect')
    .description('what a model file holds: format, strategies and options, sizes, data fingerprint, fit time, metrics at fit, customer data')
    .argument('<model>', '.hrec file')
    .option('--json', 'print JSON')
    .action((model, flags) => inspectCommand(model, flags, io));

  p.command('serve')
    .description('serve a model over HTTP (needs fastify, @fastify/cors, @fastify/swagger, prom-client; @fastify/swagger-ui for /docs)')
    .argument('<model>', '.hrec file')
    .option('--host <host>', 'interface to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option('--port <n>', 'TCP port (0: a free one)', integer(0, 65535), 8080)
    .option('--workers <n>', 'scoring worker threads (0: score on the HTTP thread; default every core)', integer(0, 256))
    .option('--cors <origins>', 'comma-separated origins allowed by CORS (default: CORS off)')
    .option('--admin-token <token>', 'bearer token for POST /admin/reload (default: loopback clients only)')
    .option('--body-limit <bytes>', 'largest request body', integer(1024))
    .option('--log', 'log every request (JSON lines)')
    .action(async (model, flags) => {
      const { serve } = await import('../server/index');
      await serve(model, {
        host: flags.host,
        port: flags.port,
        workers: flags.workers,
        cors: flags.cors ? String(flags.cors).split(',').map((s: string) => s.trim()) : undefined,
        adminToken: flags.adminToken,
        bodyLimit: flags.bodyLimit,
        logger: flags.log === true,
        log: io.err,
      });
    });

  const runs = p.command('runs').description('list recorded runs (fit --runs, evaluate --runs)').option('--dir <dir>', 'the runs folder', 'runs').option('--json', 'print JSON');
  runs.action((flags) => runsListCommand(flags, io));
  runs
    .command('compare')
    .description('two runs side by side (ids, unique id prefixes, or positions in the list: 1, 2, -1 for the last)')
    .argument('<a>')
    .argument('<b>')
    .action((a, b, _flags, cmd: Command) => runsCompareCommand(a, b, cmd.parent!.opts() as { dir: string; json?: boolean }, io));
  return p;
}

