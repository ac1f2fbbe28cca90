/** The strategies `hybridrec fit --strategies` knows by name. */
import { AssociationRules, ContentBased, CoPurchaseGraph, ItemKNN, NeuralCF, Popularity, RepeatPurchase, TfidfEncoder, type Recommender } from '../index';
import { OptionError } from '../errors';

const STRATEGIES: Record<string, () => Recommender> = {
  // As an ensemble member popularity scores the catalog's head only (see examples/shared.ts).
  popularity: () => new Popularity({ maxItems: 1000 }),
  repeat: () => new RepeatPurchase(),
  itemknn: () => new ItemKNN(),
  content: () => new ContentBased({ encoder: new TfidfEncoder() }),
  rules: () => new AssociationRules(),
  graph: () => new CoPurchaseGraph(),
  ncf: () => new NeuralCF(),
};

export const STRATEGY_NAMES = Object.keys(STRATEGIES);

/** The default ensemble of the CLI: every strategy but NeuralCF, whose fit needs @tensorflow/tfjs and minutes. */
export const DEFAULT_STRATEGIES = 'popularity,repeat,itemknn,content,rules,graph';

export function strategiesFrom(list: string): Record<string, Recommender> {
  const out: Record<string, Recommender> = {};
  for (const name of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const make = STRATEGIES[name];
    if (!make) throw new OptionError('--strategies', `unknown strategy "${name}" (known: ${STRATEGY_NAMES.join(', ')})`);
    out[name] = make();
  }
  if (Object.keys(out).length === 0) throw new OptionError('--strategies', 'name at least one strategy');
  return out;
}

/** --weights: 'tune' (choose on a validation split of the training data), 'equal', or name=weight,... */
export function weightsFrom(text: string): Record<string, number> | 'tune' {
  if (text === 'tune') return 'tune';
  if (text === 'equal') return {};
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^([a-z0-9_-]+)=([0-9.]+)$/i.exec(part.trim());
    if (!m) throw new OptionError('--weights', `expected tune, equal or name=weight,..., got "${part}"`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}
