import { ALS } from '../strategies/als';
import { AssociationRules } from '../strategies/association-rules';
import { ContentBased } from '../strategies/content';
import { CoPurchaseGraph } from '../strategies/copurchase-graph';
import { EASE } from '../strategies/ease';
import { ItemKNN } from '../strategies/item-knn';
import { NeuralCF } from '../strategies/neural-cf';
import { Popularity } from '../strategies/popularity';
import { RepeatPurchase } from '../strategies/repeat-purchase';
import { SequentialRecommender } from '../strategies/sequential';
import { TIFUKNN } from '../strategies/tifu-knn';
import { TwoTower } from '../strategies/two-tower';
import type { StrategyLoader } from '../strategies/types';

/** Loaders of the built-in strategy kinds, keyed by `Recommender.kind`. */
export const BUILTIN_LOADERS: Readonly<Record<string, StrategyLoader>> = {
  popularity: (state, sections, context) => Popularity.load(state, sections, context),
  repeat: (state, sections, context) => RepeatPurchase.load(state, sections, context),
  itemknn: (state, sections, context) => ItemKNN.load(state, sections, context),
  ncf: (state, sections, context) => NeuralCF.load(state, sections, context),
  content: (state, sections, context) => ContentBased.load(state, sections, context),
  rules: (state, sections, context) => AssociationRules.load(state, sections, context),
  graph: (state, sections, context) => CoPurchaseGraph.load(state, sections, context),
  als: (state, sections, context) => ALS.load(state, sections, context),
  ease: (state, sections, context) => EASE.load(state, sections, context),
  tifuknn: (state, sections, context) => TIFUKNN.load(state, sections, context),
  sequential: (state, sections, context) => SequentialRecommender.load(state, sections, context),
  twotower: (state, sections, context) => TwoTower.load(state, sections, context),
};
