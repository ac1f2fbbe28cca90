import type { Json, JsonObject } from '../util/json';
import { ArtifactReader, ArtifactWriter } from './container';

/**
 * The artifact with its manifest root replaced by `edit(root)`, every section kept byte for
 * byte (e.g. to record what a fit saw, or to try other ensemble weights on the same model).
 * The input is validated as ArtifactReader.open validates it.
 */
export function rewriteRoot(bytes: Uint8Array, edit: (root: JsonObject) => Json): Uint8Array {
  const reader = ArtifactReader.open(bytes);
  const writer = new ArtifactWriter();
  for (const name of reader.sectionNames) writer.array(name, reader.array(name));
  return writer.toBytes(edit((reader.root ?? {}) as JsonObject));
}
