import { HybridRecommender, type SaveOptions } from '../ensemble/hybrid';
import { OptionError } from '../errors';
import { describe } from '../util/options';
import { checkPath, loadArtifactFile, saveArtifactFile } from './files';

/**
 * Saves a fitted recommender to `path` (the same bytes as rec.save(options)); `{ customerData:
 * false }` writes a serving artifact (no user ids or purchase histories, docs/artifacts.md).
 */
export async function saveRecommender(rec: HybridRecommender, path: string, options: SaveOptions = {}): Promise<void> {
  if (!(rec instanceof HybridRecommender)) throw new OptionError('saveRecommender: rec', `must be a HybridRecommender, got ${describe(rec)}`);
  checkPath(path, 'saveRecommender: path');
  await saveArtifactFile(path, rec.save(options));
}

/** Loads a recommender saved by saveRecommender (or by rec.save() anywhere, browsers included). */
export async function loadRecommender(path: string, options?: Parameters<typeof HybridRecommender.load>[1]): Promise<HybridRecommender> {
  return HybridRecommender.load(await loadArtifactFile(path), options);
}
