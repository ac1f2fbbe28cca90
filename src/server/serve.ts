import { createServer, type RecommendationServer } from './app';
import type { ServerOptions } from './options';

export interface ServeOptions extends Partial<ServerOptions> {
  /**
   * Handle process signals (default true): SIGTERM and SIGINT shut down gracefully (requests in
   * flight finish, then the process exits 0), SIGHUP hot-swaps to the model file again.
   */
  signals?: boolean;
  /** Called with each line worth telling an operator (default console.error). */
  log?: (line: string) => void;
}

/** createServer + listen + signal handling: what `hybridrec serve` and a container run. */
export async function serve(modelPath: string, options: ServeOptions = {}): Promise<RecommendationServer & { url: string }> {
  const { signals = true, log = (line: string) => console.error(line), ...serverOptions } = options;
  const server = await createServer(modelPath, serverOptions);
  const url = await server.listen();
  const m = server.model;
  log(`hybridrec serving ${modelPath} (${m.items.toLocaleString()} items, ${m.users.toLocaleString()} users, ${m.strategies.join(', ')}; sha256 ${m.sha256.slice(0, 12)}) on ${url} with ${server.pool.workers || 'no'} scoring worker${server.pool.workers === 1 ? '' : 's'}; docs at ${url}/docs`);
  if (signals) {
    const shutdown = (signal: string) => {
      log(`${signal}: finishing requests in flight, then exiting`);
      server.close().then(
        () => process.exit(0),
        (e: unknown) => {
          log(`shutdown failed: ${(e as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGHUP', () => {
      server.reload().then(
        (info) => log(`SIGHUP: now serving sha256 ${info.sha256.slice(0, 12)} (generation ${server.pool.generation})`),
        (e: unknown) => log(`SIGHUP: reload failed, the old model keeps serving: ${(e as Error).name}: ${(e as Error).message}`),
      );
    });
  }
  return Object.assign(server, { url });
}
