import { HybridRecommender } from '../ensemble/hybrid';
import { OptionError } from '../errors';
import { describe } from '../util/options';
import { checkPath, loadArtifactFile, saveArtifactFile } from './files';

/** Saves a fitted recommender to `path` (the same bytes as rec.save()). */
export async function saveRecommender(rec: HybridRecommender, path: string): Promise<void> {
  if (!(rec instanceof HybridRecommender)) throw new OptionError('saveRecommender: rec', `must be a HybridRecommender, got ${describe(rec)}`);
  checkPath(path, 'saveRecommender: path');
  await saveArtifactFile(path, rec.save());
}

/** Loads a recommender saved by saveRecommender (or by rec.save() anywhere, browsers included). */
export async function loadRecommender(path: string, options?: Parameters<typeof HybridRecommender.load>[1]): Promise<HybridRecommender> {
  return HybridRecommender.load(await loadArtifactFile(path), options);
}
