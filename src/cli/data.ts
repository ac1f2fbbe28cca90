/** Where the CLI's fit and evaluate read data: an Instacart folder, an interactions CSV, or the synthetic generator. */
import { datasetFromInstacart, generateGrocery, type Dataset, type InteractionRows, type Progress } from '../index';
import { loadInstacart, loadInteractionsCsv } from '../node';
import { OptionError } from '../errors';

export interface DataFlags {
  instacart?: string;
  csv?: string;
  synthetic?: boolean;
  userCol: string;
  itemCol: string;
  weightCol?: string;
  basketCol?: string;
  timeCol?: string;
  delimiter: string;
  skipBadRows?: boolean;
  users: number;
  products: number;
  dataSeed: number;
}

export interface LoadedData {
  dataset: Dataset;
  /** The interaction rows of a CSV (temporal holdout needs them); null otherwise. */
  rows: InteractionRows | null;
  source: string;
}

export async function loadData(flags: DataFlags, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<LoadedData> {
  const given = [flags.instacart !== undefined, flags.csv !== undefined, flags.synthetic === true].filter(Boolean).length;
  if (given !== 1) throw new OptionError('data', 'give exactly one of --instacart <dir>, --csv <file> or --synthetic');
  const onBadRow = flags.skipBadRows ? 'skip' : 'error';
  if (flags.instacart !== undefined) {
    const { dataset } = await loadInstacart(flags.instacart, { onProgress, signal, onBadRow });
    return { dataset, rows: null, source: `instacart ${flags.instacart}` };
  }
  if (flags.csv !== undefined) {
    const mapping = { user: flags.userCol, item: flags.itemCol, weight: flags.weightCol, basket: flags.basketCol, timestamp: flags.timeCol };
    const { dataset, rows } = await loadInteractionsCsv(flags.csv, { mapping, delimiter: flags.delimiter, onProgress, signal, onBadRow });
    const columns = Object.entries(mapping).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(' ');
    return { dataset, rows, source: `csv ${flags.csv} (${columns})` };
  }
  const tables = generateGrocery({ users: flags.users, products: flags.products, seed: flags.dataSeed });
  return { dataset: datasetFromInstacart(tables).dataset, rows: null, source: `synthetic users=${flags.users} products=${flags.products} seed=${flags.dataSeed}` };
}
