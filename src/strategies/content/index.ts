export { ContentBased, DEFAULT_TEMPLATE, type ContentBasedOptions, type ContentEncoder, type ItemTemplate } from './content-based';
export type { DenseItemVectors, EncodeOptions, ItemTextEncoder, ItemVectors, SparseItemVectors } from './encoder';
export { MiniLMEncoder, type MiniLMDtype, type MiniLMOptions } from './minilm';
export { ENGLISH_STOP_WORDS, TfidfEncoder, tokenize, type TfidfOptions } from './tfidf';
