/**
 * Item text templates ("{name} {aisle} {meta.brand}"): the text a catalog gives an item, used
 * by every strategy that encodes item text (ContentBased, TwoTower).
 */
import { OptionError } from '../errors';
import type { Catalog } from './dataset';

export type TemplatePart = { literal: string } | { field: 'name' | 'aisle' | 'department' } | { meta: string };

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** The parts of a template string; an unknown placeholder is an OptionError naming `name`. */
export function parseTemplate(template: string, name: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ literal: template.slice(last, m.index) });
    const key = m[1].trim();
    if (key === 'name' || key === 'aisle' || key === 'department') parts.push({ field: key });
    else if (key.startsWith('meta.') && key.length > 5) parts.push({ meta: key.slice(5) });
    else throw new OptionError(name, `unknown placeholder {${m[1]}}: use {name}, {aisle}, {department} or {meta.KEY}`);
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ literal: template.slice(last) });
  return parts;
}

/** The text parsed template `parts` make for `item` of `catalog` (a missing field or meta key is empty). */
export function renderTemplate(parts: readonly TemplatePart[], catalog: Catalog, item: number): string {
  let text = '';
  for (const p of parts) {
    if ('literal' in p) text += p.literal;
    else if ('field' in p) text += catalog[p.field][item] ?? '';
    else text += catalog.meta[item]?.[p.meta] ?? '';
  }
  return text;
}
