import { ALS } from '../strategies/als';
import { AssociationRules } from '../strategies/association-rules';
import { ContentBased } from '../strategies/content';
import { CoPurchaseGraph } from '../strategies/copurchase-graph';
import { EASE } from '../strategies/ease';
import { ItemKNN } from '../strategies/item-knn';
import { NeuralCF } from '../strategies/neural-cf';
import { Popularity } from '../strategies/popularity';
import { RepeatPurchase } from '../strategies/repeat-purchase';
import { TIFUKNN } from '../strategies/tifu-knn';
import type { StrategyLoader } from '../strategies/types';

/** Loaders of the built-in strategy kinds, keyed by `Recommender.kind`. */
export const BUILTIN_LOADERS: Readonly<Record<string, StrategyLoader>> = {
  popularity: (state, sections) => Popularity.load(state, sections),
  repeat: (state, sections) => RepeatPurchase.load(state, sections),
  itemknn: (state, sections) => ItemKNN.load(state, sections),
  ncf: (state, sections) => NeuralCF.load(state, sections),
  content: (state, sections) => ContentBased.load(state, sections),
  rules: (state, sections) => AssociationRules.load(state, sections),
  graph: (state, sections) => CoPurchaseGraph.load(state, sections),
  als: (state, sections) => ALS.load(state, sections),
  ease: (state, sections) => EASE.load(state, sections),
  tifuknn: (state, sections) => TIFUKNN.load(state, sections),
};
