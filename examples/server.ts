/**
 * The HTTP server of hybridrec/server on a model: yours, or a small demo model fitted first.
 *
 *   npx tsx examples/server.ts [model.hrec] [--port 8080] [--host 127.0.0.1]
 *   npm run demo:server
 *
 * Then open http://127.0.0.1:8080/docs for every route with its parameters (Swagger UI), or:
 *   curl 'http://127.0.0.1:8080/recommend?user=1&k=5&explain=true'
 *   curl -X POST http://127.0.0.1:8080/recommend -H 'content-type: application/json' -d '{"history":["24","24","57"],"basket":["13"],"k":5}'
 *   curl 'http://127.0.0.1:8080/similar?item=24&k=5'
 *   curl http://127.0.0.1:8080/metrics
 * Ctrl-C (or SIGTERM) finishes requests in flight, then exits; SIGHUP reloads the model file.
 * The same server from the built package: npx hybridrec serve model.hrec
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveArtifactFile } from '../src/node';
import { serve } from '../src/server/index';
import { fitDemoRecommender, runIfMain } from './shared';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const flagValues = new Set(['--port', '--host'].map((f) => args.indexOf(f) + 1).filter((i) => i > 0));
  let model = args.find((a, i) => !a.startsWith('--') && !flagValues.has(i));
  if (model === undefined) {
    console.error('no model file given: fitting a demo model on synthetic data (1,000 shoppers, 800 products)...');
    const { recommender } = await fitDemoRecommender({ users: 1000, products: 800, neural: false, quiet: true });
    model = join(await mkdtemp(join(tmpdir(), 'hybridrec-demo-')), 'model.hrec');
    await saveArtifactFile(model, recommender.save());
  }
  await serve(model, { port: Number(value('port') ?? process.env.PORT ?? 8080), host: value('host') ?? '127.0.0.1' });
}

runIfMain(import.meta.url, main);
