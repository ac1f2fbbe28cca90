/**
 * The artifact half of the bad-input corpus: seeded bit flips and truncations at many lengths
 * (every one detected, always as an ArtifactError), and hand edits whose checksums were
 * recomputed, one per header and manifest field and per dataset-section field: each must be an
 * ArtifactError naming the section and the field, never a RangeError, a TypeError or a load.
 */
import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { crc32 } from '../src/artifact/crc32';
import type { SectionArray } from '../src/artifact/sections';
import {
  checkCsr,
  checkIndices,
  checkLength,
  checkPointers,
  checkSortedRanges,
  checkValues,
  readCsr,
  readF32,
  readIndices,
  readPointers,
  stateInteger,
  stateNumber,
} from '../src/artifact/validate';
import { readDataset, writeDataset } from '../src/data/serialize';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { ArtifactError } from '../src/errors';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import type { Json, JsonObject } from '../src/util/json';
import { mulberry32 } from '../src/util/random';
import { caseTally, seededPositions, thrown } from './corpus/corpus';
import { basketsDataset } from './fixtures';

const counted = caseTally('artifacts');

/** A dataset with several users, repeat baskets, catalog text and metadata. */
function sampleData() {
  const data = basketsDataset(
    {
      u1: [['milk', 'eggs'], ['milk', 'bread'], ['eggs']],
      u2: [['bread', 'jam'], ['jam']],
      u3: [['milk', 'jam', 'flour'], ['flour', 'eggs']],
      u4: [['salt']],
    },
    { catalog: { milk: { name: 'Milk, whole', aisle: 'dairy', department: 'dairy eggs' }, jam: { name: 'Jam', aisle: 'spreads' } }, extraItems: ['never'] },
  );
  data.catalog.meta[data.items.indexOf('milk')] = { brand: 'Acme', size: '1 l' };
  return data;
}

function dataArtifact(): Uint8Array {
  const w = new ArtifactWriter();
  writeDataset(sampleData(), w.scope('data'));
  return w.toBytes({ kind: 'corpus', note: 'dataset only' });
}

const BYTES = dataArtifact();
const open = (bytes: Uint8Array) => readDataset(ArtifactReader.open(bytes).scope('data'));

/** The ArtifactError `run` throws (anything else, or a load, fails the case). */
const artifactError = (run: () => unknown): ArtifactError => thrown(ArtifactError, run);

/** Asserts the error names `section` and `field` in its properties and its message. */
function expectPlace(error: ArtifactError, section: string, field?: string | RegExp): void {
  expect(error.section).toBe(section);
  expect(error.message).toContain(`section "${section}"`);
  if (field === undefined) return;
  if (typeof field === 'string') expect(error.field).toBe(field);
  else expect(error.field).toMatch(field);
  expect(error.message).toContain(`field "${error.field}"`);
}

// ---------------------------------------------------------------- container surgery helpers

interface Entry {
  name: string;
  dtype: string;
  offset: number;
  length: number;
  crc: number;
}

function manifestOf(bytes: Uint8Array): { root: Json; sections: Entry[] } {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(24, 24 + length)));
}

const SIZE: Record<string, number> = { f32: 4, f64: 8, i32: 4, u32: 4, i16: 2, u16: 2, i8: 1, u8: 1 };

/**
 * The artifact with its manifest replaced by `edit(manifest)` (an object, or raw manifest text)
 * and the manifest CRC recomputed; with `recrc`, each entry's CRC is recomputed over the range
 * it now names, so only the semantic edit is wrong. Section bytes stay where they are.
 */
function withManifest(bytes: Uint8Array, edit: (m: Record<string, unknown> & { sections: Entry[] }) => unknown, recrc = true): Uint8Array {
  const manifest = manifestOf(bytes) as Record<string, unknown> & { sections: Entry[] };
  const oldLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  const edited = edit(manifest) ?? manifest;
  if (recrc && typeof edited === 'object' && edited !== null && Array.isArray((edited as { sections?: unknown }).sections)) {
    for (const s of (edited as { sections: Entry[] }).sections) {
      if (s && typeof s.offset === 'number' && typeof s.length === 'number' && SIZE[s.dtype] && s.offset + s.length * SIZE[s.dtype] <= bytes.length && s.offset >= 0) {
        s.crc = crc32(bytes.subarray(s.offset, s.offset + s.length * SIZE[s.dtype]));
      }
    }
  }
  const text = typeof edited === 'string' ? edited : JSON.stringify(edited);
  const encoded = edited instanceof Uint8Array ? edited : new TextEncoder().encode(text);
  const firstSection = Math.min(...manifestOf(bytes).sections.map((s) => s.offset));
  if (24 + encoded.length > firstSection) throw new Error(`edited manifest (${encoded.length} bytes) does not fit before the sections`);
  const out = bytes.slice();
  out.fill(0, 24, Math.max(24 + oldLength, 24 + encoded.length));
  out.set(encoded, 24);
  const view = new DataView(out.buffer);
  view.setUint32(12, encoded.length, true);
  view.setUint32(16, crc32(encoded), true);
  return out;
}

/** The artifact rewritten (by ArtifactWriter, so every CRC is right) after `edit` changed its sections. */
function withSections(bytes: Uint8Array, edit: (sections: Map<string, SectionArray>) => void): Uint8Array {
  const reader = ArtifactReader.open(bytes);
  const sections = new Map<string, SectionArray>(reader.sectionNames.map((name) => [name, reader.array(name).slice()]));
  edit(sections);
  const w = new ArtifactWriter();
  for (const [name, data] of sections) w.array(name, data);
  return w.toBytes(reader.root);
}

// ----------------------------------------------------------------------------- fuzzing

describe('artifact corpus: seeded bit flips and truncations', () => {
  it('loads the unedited artifact, also from every misaligned offset', () => {
    const data = open(BYTES);
    expect(data.users.ids).toEqual(['u1', 'u2', 'u3', 'u4']);
    for (let shift = 1; shift < 8; shift++) {
      const shifted = new Uint8Array(BYTES.length + shift);
      shifted.set(BYTES, shift);
      const again = open(shifted.subarray(shift));
      expect(again.baskets).toEqual(data.baskets);
      expect(again.interactions).toEqual(data.interactions);
      counted('misaligned reads');
    }
  });

  it('every single-bit flip, at 1,500 seeded positions, is an ArtifactError', () => {
    const rng = mulberry32(21);
    for (let k = 0; k < 1500; k++) {
      const at = Math.floor(rng() * BYTES.length);
      const flipped = BYTES.slice();
      flipped[at] ^= 1 << Math.floor(rng() * 8);
      const error = artifactError(() => open(flipped));
      expect(error.section ?? error.name, `flip at ${at}`).toBeTruthy();
      counted('bit flips');
    }
  });

  it('every byte flipped once (each position of the file) is an ArtifactError', () => {
    for (let at = 0; at < BYTES.length; at++) {
      const flipped = BYTES.slice();
      flipped[at] ^= 0x80;
      artifactError(() => open(flipped));
      counted('bit flips');
    }
  });

  it('runs of random bytes, at 300 seeded places, are ArtifactErrors', () => {
    const rng = mulberry32(22);
    for (let k = 0; k < 300; k++) {
      const at = Math.floor(rng() * BYTES.length);
      const run = 1 + Math.floor(rng() * 64);
      const noisy = BYTES.slice();
      let changed = false;
      for (let p = at; p < Math.min(BYTES.length, at + run); p++) {
        const b = Math.floor(rng() * 256);
        changed ||= b !== noisy[p];
        noisy[p] = b;
      }
      if (!changed) continue;
      artifactError(() => open(noisy));
      counted('random byte runs');
    }
  });

  it('every truncation (each length from 0 to the full size - 1) is an ArtifactError', () => {
    for (let length = 0; length < BYTES.length; length++) {
      artifactError(() => open(BYTES.subarray(0, length)));
      counted('truncations');
    }
  });

  it('bytes appended after the last section (even zeros) are an ArtifactError', () => {
    const last = manifestOf(BYTES).sections.at(-1)!;
    for (const extra of [8, 16, 3]) {
      const longer = new Uint8Array(BYTES.length + extra);
      longer.set(BYTES);
      longer[BYTES.length] = extra === 16 ? 7 : 0;
      const error = artifactError(() => open(longer));
      expectPlace(error, last.name, 'length');
      expect(error.message).toContain(`has ${extra} bytes after its last section`);
      counted('truncations');
    }
  });

  it('a whole HybridRecommender artifact: 300 seeded flips and 200 truncations, every one an ArtifactError through load()', async () => {
    const rec = new HybridRecommender({ strategies: { pop: new Popularity(), knn: new ItemKNN() } });
    await rec.fit(sampleData());
    const bytes = rec.save();
    await HybridRecommender.load(bytes);
    const rng = mulberry32(23);
    for (let k = 0; k < 300; k++) {
      const flipped = bytes.slice();
      flipped[Math.floor(rng() * bytes.length)] ^= 1 << Math.floor(rng() * 8);
      await expect(HybridRecommender.load(flipped)).rejects.toBeInstanceOf(ArtifactError);
      counted('hybrid artifact flips and truncations');
    }
    for (const length of seededPositions(24, 200, 0, bytes.length)) {
      await expect(HybridRecommender.load(bytes.subarray(0, length))).rejects.toBeInstanceOf(ArtifactError);
      counted('hybrid artifact flips and truncations');
    }
  });

  it('not bytes at all', () => {
    for (const input of [undefined, null, 'HYBRIDRC', [1, 2, 3], new Uint16Array(40), {}]) {
      expect(artifactError(() => ArtifactReader.open(input as never)).message).toMatch(/must be a Uint8Array/);
      counted('header');
    }
  });
});

// ------------------------------------------------------------ header and manifest edits

describe('artifact corpus: header edits', () => {
  const header: Array<[string, (view: DataView, bytes: Uint8Array) => void, string, string]> = [
    ['reserved bytes', (v) => v.setUint32(20, 1, true), 'header', 'reserved'],
    ['reserved high byte', (_v, b) => (b[23] = 0x80), 'header', 'reserved'],
    ['version 0', (v) => v.setUint32(8, 0, true), 'header', 'version'],
    ['magic', (_v, b) => (b[3] = 0x62), 'header', 'magic'],
    ['manifest length past the end', (v, b) => v.setUint32(12, b.length, true), 'manifest', 'length'],
    ['manifest CRC', (v) => v.setUint32(16, 12345, true), 'manifest', 'crc'],
  ];
  for (const [what, edit, section, field] of header) {
    it(`${what}: an ArtifactError naming ${section}.${field}`, () => {
      const bytes = BYTES.slice();
      edit(new DataView(bytes.buffer), bytes);
      expectPlace(artifactError(() => open(bytes)), section, field);
      counted('header');
    });
  }

  it('a newer format version: ArtifactVersionError', () => {
    const bytes = BYTES.slice();
    new DataView(bytes.buffer).setUint32(8, 2, true);
    expect(artifactError(() => open(bytes)).name).toBe('ArtifactVersionError');
    counted('header');
  });
});

describe('artifact corpus: manifest edits with recomputed checksums', () => {
  const entries = manifestOf(BYTES).sections;
  const at = (name: string) => entries.findIndex((s) => s.name === name);
  const USERPTR = at('data/baskets/userPtr');
  const ITEMPTR = at('data/baskets/itemPtr');
  const top: Array<[string, (m: Record<string, unknown> & { sections: Entry[] }) => unknown, string | undefined]> = [
    ['not JSON', () => '{"root": ', undefined],
    ['JSON null', () => 'null', undefined],
    ['a JSON array', () => '[]', undefined],
    ['a JSON string', () => '"sections"', undefined],
    ['no root', (m) => ({ sections: m.sections }), 'root'],
    ['an unknown key', (m) => ({ ...m, extra: 1 }), 'extra'],
    ['no sections', (m) => ({ root: m.root }), 'sections'],
    ['sections an object', (m) => ({ root: m.root, sections: { 0: m.sections[0] } }), 'sections'],
    ['sections a string', (m) => ({ root: m.root, sections: 'all' }), 'sections'],
  ];
  for (const [what, edit, field] of top) {
    it(`manifest ${what}: an ArtifactError naming the manifest${field ? ` field ${field}` : ''}`, () => {
      expectPlace(artifactError(() => open(withManifest(BYTES, edit))), 'manifest', field);
      counted('manifest fields');
    });
  }

  it('a manifest that is not UTF-8', () => {
    const bytes = withManifest(BYTES, () => new Uint8Array([0x7b, 0xff, 0x7d]));
    expectPlace(artifactError(() => open(bytes)), 'manifest');
    counted('manifest fields');
  });

  const E = 'data/baskets/userPtr';
  const userPtrEntry = entries[USERPTR];
  const fields: Array<[string, (s: Record<string, unknown>, all: Entry[]) => void, string, RegExp]> = [
    // name
    ['name missing', (s) => delete s.name, 'manifest', /^sections\[\d+\]\.name$/],
    ['name a number', (s) => (s.name = 42), 'manifest', /\.name$/],
    ['name empty', (s) => (s.name = ''), 'manifest', /\.name$/],
    ['name a duplicate', (s) => (s.name = 'data/baskets/itemPtr'), 'manifest', /\.name$/],
    // dtype
    ['dtype missing', (s) => delete s.dtype, E, /\.dtype$/],
    ['dtype unknown', (s) => (s.dtype = 'f16'), E, /\.dtype$/],
    ['dtype "toString"', (s) => (s.dtype = 'toString'), E, /\.dtype$/],
    ['dtype "__proto__"', (s) => (s.dtype = '__proto__'), E, /\.dtype$/],
    ['dtype a number', (s) => (s.dtype = 4), E, /\.dtype$/],
    // offset
    ['offset missing', (s) => delete s.offset, E, /\.offset$/],
    ['offset negative', (s) => (s.offset = -8), E, /\.offset$/],
    ['offset misaligned', (s) => (s.offset = (s.offset as number) + 4), E, /\.offset$/],
    ['offset fractional', (s) => (s.offset = (s.offset as number) + 0.5), E, /\.offset$/],
    ['offset a string', (s) => (s.offset = String(s.offset)), E, /\.offset$/],
    ['offset inside the header', (s) => (s.offset = 0), E, /\.offset$/],
    ['offset inside the manifest', (s) => (s.offset = 24), E, /\.offset$/],
    ['offset past the end', (s) => (s.offset = BYTES.length + 8), E, /\.length$/],
    // Two sections on the same bytes: reported on the one that comes second, naming the other.
    ['offset onto another section', (s, all) => (s.offset = all[ITEMPTR].offset), 'data/baskets/itemPtr', /\.offset$/],
    // length
    ['length missing', (s) => delete s.length, E, /\.length$/],
    ['length negative', (s) => (s.length = -1), E, /\.length$/],
    ['length fractional', (s) => (s.length = 1.5), E, /\.length$/],
    ['length a string', (s) => (s.length = '5'), E, /\.length$/],
    ['length huge', (s) => (s.length = 2 ** 40), E, /\.length$/],
    ['length null (JSON of Infinity)', (s) => (s.length = null), E, /\.length$/],
    // crc
    ['crc missing', (s) => delete s.crc, E, /\.crc$/],
    ['crc negative', (s) => (s.crc = -1), E, /\.crc$/],
    ['crc above u32', (s) => (s.crc = 2 ** 32), E, /\.crc$/],
    ['crc fractional', (s) => (s.crc = 0.5), E, /\.crc$/],
    ['crc a string', (s) => (s.crc = 'ffff'), E, /\.crc$/],
    // the entry itself
    ['an unknown key', (s) => (s.compressed = true), E, /\.compressed$/],
  ];
  for (const [what, edit, section, field] of fields) {
    it(`section entry ${what}: an ArtifactError naming ${section} and the field`, () => {
      const bytes = withManifest(BYTES, (m) => {
        edit(m.sections[USERPTR] as unknown as Record<string, unknown>, m.sections);
      }, !what.startsWith('crc'));
      expectPlace(artifactError(() => open(bytes)), section, field);
      counted('manifest fields');
    });
  }

  it('section entry not an object, and a wrong CRC value', () => {
    for (const value of [null, 5, 'entry', [1]]) {
      const bytes = withManifest(BYTES, (m) => {
        (m.sections as unknown[])[USERPTR] = value;
      });
      expectPlace(artifactError(() => open(bytes)), 'manifest', `sections[${USERPTR}]`);
      counted('manifest fields');
    }
    const wrong = withManifest(BYTES, (m) => {
      m.sections[USERPTR].crc ^= 1;
    }, false);
    expectPlace(artifactError(() => open(wrong)), E, 'crc');
    counted('manifest fields');
  });

  it('a dtype edit whose bytes still check out: the reader names the section and its dtype', () => {
    const asF32 = withManifest(BYTES, (m) => {
      m.sections[USERPTR].dtype = 'f32';
    });
    expectPlace(artifactError(() => open(asF32)), E, 'dtype');
    const asU8 = withManifest(BYTES, (m) => {
      m.sections[USERPTR].dtype = 'u8';
      m.sections[USERPTR].length = userPtrEntry.length * 4;
    });
    expectPlace(artifactError(() => open(asU8)), E, 'dtype');
    counted('manifest fields');
    counted('manifest fields');
  });

  it('non-zero padding: after the manifest, between sections, at the end', () => {
    const gap = BYTES.slice();
    const manifestEnd = 24 + new DataView(BYTES.buffer).getUint32(12, true);
    gap[manifestEnd + 1] = 1;
    expectPlace(artifactError(() => open(gap)), 'padding', `byte ${manifestEnd + 1}`);
    const odd = entries.find((s) => (s.length * SIZE[s.dtype]) % 8 !== 0)!;
    const between = BYTES.slice();
    const pad = odd.offset + odd.length * SIZE[odd.dtype];
    between[pad] = 0xaa;
    expectPlace(artifactError(() => open(between)), 'padding', `byte ${pad}`);
    counted('manifest fields');
    counted('manifest fields');
  });
});

// ---------------------------------------------------------------- dataset section edits

describe('artifact corpus: dataset section edits with recomputed checksums', () => {
  type Edit = (s: Map<string, SectionArray>) => void;
  const i32 = (s: Map<string, SectionArray>, name: string) => s.get(`data/${name}`) as Int32Array;
  const set = (s: Map<string, SectionArray>, name: string, value: SectionArray) => s.set(`data/${name}`, value);
  const withEntry = (a: Int32Array | Float64Array | Float32Array, value: number) => {
    const out = new (a.constructor as new (n: number) => typeof a)(a.length + 1);
    out.set(a);
    out[a.length] = value;
    return out;
  };
  const utf8Of = (strings: string[]): [Int32Array, Uint8Array] => {
    const w = new ArtifactWriter();
    w.strings('x', strings);
    const r = ArtifactReader.open(w.toBytes(null));
    return [r.i32('x#offsets').slice(), r.u8('x#utf8').slice()];
  };
  const strings = (name: string, list: string[]): Edit => (s) => {
    const [offsets, utf8] = utf8Of(list);
    set(s, `${name}#offsets`, offsets);
    set(s, `${name}#utf8`, utf8);
  };
  const data = sampleData();
  const nnz = data.interactions.nnz;

  const cases: Array<[string, Edit, string, string | RegExp]> = [
    // ids
    ['users: a duplicate id', strings('users', ['u1', 'u2', 'u1', 'u4']), 'data/users', /^$|undefined/],
    ['users: invalid UTF-8', (s) => ((s.get('data/users#utf8') as Uint8Array)[1] = 0xff), 'data/users#utf8', '[0]'],
    ['users: offsets not starting at 0', (s) => (i32(s, 'users#offsets')[0] = 1), 'data/users#offsets', '[0]'],
    ['users: offsets decreasing', (s) => (i32(s, 'users#offsets')[2] = 1), 'data/users#offsets', /^\[\d\]$/],
    ['users: offsets ending short of the text', (s) => (i32(s, 'users#offsets')[4] -= 1), 'data/users#offsets', '[4]'],
    ['users: offsets empty', (s) => set(s, 'users#offsets', new Int32Array(0)), 'data/users#offsets', 'length'],
    ['items: a duplicate id', strings('items', ['bread', 'bread', 'flour', 'jam', 'milk', 'never', 'salt']), 'data/items', /^$|undefined/],
    ['items: offsets as u32', (s) => set(s, 'items#offsets', Uint32Array.from(i32(s, 'items#offsets'))), 'data/items#offsets', 'dtype'],
    // the interaction matrix
    ['interactions/indptr: one entry short', (s) => set(s, 'interactions/indptr', i32(s, 'interactions/indptr').slice(0, -1)), 'data/interactions/indptr', 'length'],
    ['interactions/indptr: not starting at 0', (s) => (i32(s, 'interactions/indptr')[0] = 1), 'data/interactions/indptr', '[0]'],
    ['interactions/indptr: decreasing', (s) => (i32(s, 'interactions/indptr')[2] = 0), 'data/interactions/indptr', /^\[\d\]$/],
    ['interactions/indptr: ending past nnz', (s) => (i32(s, 'interactions/indptr')[4] = nnz + 1), 'data/interactions/indptr', '[4]'],
    ['interactions/indices: an item past the end', (s) => (i32(s, 'interactions/indices')[3] = 7), 'data/interactions/indices', '[3]'],
    ['interactions/indices: negative', (s) => (i32(s, 'interactions/indices')[0] = -1), 'data/interactions/indices', '[0]'],
    ['interactions/indices: unsorted in a row', (s) => {
      const ix = i32(s, 'interactions/indices');
      [ix[0], ix[1]] = [ix[1], ix[0]];
    }, 'data/interactions/indices', '[1]'],
    ['interactions/indices: repeated in a row', (s) => {
      const ix = i32(s, 'interactions/indices');
      ix[1] = ix[0];
    }, 'data/interactions/indices', '[1]'],
    ['interactions/values: NaN', (s) => ((s.get('data/interactions/values') as Float32Array)[2] = NaN), 'data/interactions/values', '[2]'],
    ['interactions/values: Infinity', (s) => ((s.get('data/interactions/values') as Float32Array)[0] = Infinity), 'data/interactions/values', '[0]'],
    ['interactions/values: one short', (s) => set(s, 'interactions/values', (s.get('data/interactions/values') as Float32Array).slice(1)), 'data/interactions/values', 'length'],
    ['interactions/values: as f64', (s) => set(s, 'interactions/values', Float64Array.from(s.get('data/interactions/values') as Float32Array)), 'data/interactions/values', 'dtype'],
    // baskets
    ['baskets/userPtr: one entry short', (s) => set(s, 'baskets/userPtr', i32(s, 'baskets/userPtr').slice(0, -1)), 'data/baskets/userPtr', 'length'],
    ['baskets/userPtr: ending past the baskets', (s) => (i32(s, 'baskets/userPtr')[4] += 1), 'data/baskets/userPtr', '[4]'],
    ['baskets/userPtr: decreasing', (s) => (i32(s, 'baskets/userPtr')[2] = 0), 'data/baskets/userPtr', '[2]'],
    ['baskets/userPtr: not starting at 0', (s) => (i32(s, 'baskets/userPtr')[0] = 1), 'data/baskets/userPtr', '[0]'],
    ['baskets/itemPtr: an extra entry', (s) => set(s, 'baskets/itemPtr', withEntry(i32(s, 'baskets/itemPtr'), 13) as Int32Array), 'data/baskets/itemPtr', 'length'],
    ['baskets/itemPtr: ending short of the lines', (s) => (i32(s, 'baskets/itemPtr')[8] -= 1), 'data/baskets/itemPtr', '[8]'],
    ['baskets/itemPtr: decreasing', (s) => (i32(s, 'baskets/itemPtr')[3] = 0), 'data/baskets/itemPtr', '[3]'],
    ['baskets/items: an item past the end', (s) => (i32(s, 'baskets/items')[5] = 99), 'data/baskets/items', '[5]'],
    ['baskets/items: negative', (s) => (i32(s, 'baskets/items')[0] = -3), 'data/baskets/items', '[0]'],
    ['baskets/ids: one short', strings('baskets/ids', ['a', 'b', 'c', 'd', 'e', 'f', 'g']), 'data/baskets/ids', 'length'],
    ['baskets/orderNumber: one extra', (s) => set(s, 'baskets/orderNumber', withEntry(i32(s, 'baskets/orderNumber'), 9) as Int32Array), 'data/baskets/orderNumber', 'length'],
    ['baskets/orderNumber: out of order within a user', (s) => (i32(s, 'baskets/orderNumber')[1] = 0), 'data/baskets/orderNumber', '[1]'],
    ['baskets/day: Infinity', (s) => ((s.get('data/baskets/day') as Float64Array)[2] = Infinity), 'data/baskets/day', '[2]'],
    ['baskets/day: one short', (s) => set(s, 'baskets/day', (s.get('data/baskets/day') as Float64Array).slice(1)), 'data/baskets/day', 'length'],
    ['baskets/day: as f32', (s) => set(s, 'baskets/day', Float32Array.from(s.get('data/baskets/day') as Float64Array)), 'data/baskets/day', 'dtype'],
    ['baskets/day: missing', (s) => s.delete('data/baskets/day'), 'data/baskets/day', /^$|undefined/],
    // catalog
    ['catalog/name: one short', strings('catalog/name', ['a', 'b', 'c', 'd', 'e', 'f']), 'data/catalog/name', 'length'],
    ['catalog/aisle: one extra', strings('catalog/aisle', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']), 'data/catalog/aisle', 'length'],
    ['catalog/department: empty', strings('catalog/department', []), 'data/catalog/department', 'length'],
    ['catalog/meta: not JSON', strings('catalog/meta', ['', '', '', '', '{brand', '', '']), 'data/catalog/meta', '[4]'],
    ['catalog/meta: a JSON array', strings('catalog/meta', ['', '', '', '', '["Acme"]', '', '']), 'data/catalog/meta', '[4]'],
    ['catalog/meta: a number value', strings('catalog/meta', ['', '', '', '', '{"size":1}', '', '']), 'data/catalog/meta', '[4]'],
    ['catalog/meta: JSON null', strings('catalog/meta', ['', 'null', '', '', '', '', '']), 'data/catalog/meta', '[1]'],
  ];

  it('the sample has the shape the cases assume', () => {
    expect(data.users.size).toBe(4);
    expect(data.items.ids).toEqual(['bread', 'eggs', 'flour', 'jam', 'milk', 'never', 'salt']);
    expect(data.nBaskets).toBe(8);
  });

  for (const [what, edit, section, field] of cases) {
    it(`${what}: an ArtifactError naming ${section}`, () => {
      const error = artifactError(() => open(withSections(BYTES, edit)));
      expectPlace(error, section, typeof field === 'string' ? field : undefined);
      if (field instanceof RegExp) expect(String(error.field)).toMatch(field);
      counted('dataset section fields');
    });
  }

  it('NaN days (unknown) load', () => {
    const edited = withSections(BYTES, (s) => ((s.get('data/baskets/day') as Float64Array)[2] = NaN));
    expect(Number.isNaN(open(edited).baskets.day[2])).toBe(true);
  });
});

// -------------------------------------------------------------------- validate helpers

describe('artifact validate helpers (for every strategy load)', () => {
  const fails = (run: () => unknown, section: string, field: string): void => {
    expectPlace(artifactError(run), section, field);
    counted('validate helpers');
  };

  it('checkLength, checkPointers, checkIndices, checkValues, checkSortedRanges', () => {
    fails(() => checkLength(new Int32Array(3), 4, 's/a', 'one per item'), 's/a', 'length');
    fails(() => checkPointers(Int32Array.of(0, 2, 1, 3), 3, 3, 's/p'), 's/p', '[2]');
    fails(() => checkPointers(Int32Array.of(1, 2, 3), 2, 3, 's/p'), 's/p', '[0]');
    fails(() => checkPointers(Int32Array.of(0, 2, 3), 2, 4, 's/p'), 's/p', '[2]');
    fails(() => checkPointers(Int32Array.of(0, 2), 2, 2, 's/p'), 's/p', 'length');
    fails(() => checkIndices(Int32Array.of(0, 5, 2), 5, 's/i'), 's/i', '[1]');
    fails(() => checkIndices(Int32Array.of(-1), 5, 's/i'), 's/i', '[0]');
    fails(() => checkValues(Float32Array.of(1, NaN), 's/v'), 's/v', '[1]');
    fails(() => checkValues(Float64Array.of(-Infinity), 's/v', { allowNaN: true }), 's/v', '[0]');
    fails(() => checkValues(Float64Array.of(1, -0.5), 's/v', { min: 0 }), 's/v', '[1]');
    fails(() => checkValues(Float64Array.of(0), 's/v', { min: 0, exclusiveMin: true }), 's/v', '[0]');
    fails(() => checkValues(Int32Array.of(3), 's/v', { max: 2 }), 's/v', '[0]');
    fails(() => checkSortedRanges(Int32Array.of(0, 3), Int32Array.of(1, 1, 2), 's/i'), 's/i', '[1]');
    fails(() => checkSortedRanges(Int32Array.of(0, 1, 3), Int32Array.of(5, 4, 2), 's/i'), 's/i', '[2]');
    // Fine inputs pass.
    checkPointers(Int32Array.of(0, 0, 2), 2, 2, 's');
    checkValues(Float64Array.of(NaN, 1), 's', { allowNaN: true, min: 0 });
    checkSortedRanges(Int32Array.of(0, 2, 3), Int32Array.of(1, 4, 0), 's');
  });

  it('checkCsr and the reader forms name the full section', () => {
    const csr = { indptr: Int32Array.of(0, 2, 3), indices: Int32Array.of(0, 2, 1), values: Float32Array.of(1, 2, 3) };
    checkCsr(csr, { nRows: 2, nCols: 3 }, { indptr: 'p', indices: 'i', values: 'v' });
    fails(() => checkCsr(csr, { nRows: 2, nCols: 2 }, { indptr: 'p', indices: 'i', values: 'v' }), 'i', '[1]');
    fails(() => checkCsr({ ...csr, values: Float32Array.of(1, -1, 3) }, { nRows: 2, nCols: 3 }, { indptr: 'p', indices: 'i', values: 'v' }, { values: { min: 0 } }), 'v', '[1]');
    const w = new ArtifactWriter();
    const scope = w.scope('strategies/knn');
    scope.array('indptr', csr.indptr);
    scope.array('indices', Int32Array.of(0, 0, 1));
    scope.array('values', csr.values);
    scope.array('weights', Float32Array.of(1, NaN));
    const reader = ArtifactReader.open(w.toBytes(null)).scope('strategies').scope('knn');
    fails(() => readCsr(reader, '', { nRows: 2, nCols: 3 }), 'strategies/knn/indices', '[1]');
    expect(readCsr(reader, '', { nRows: 2, nCols: 3 }, { sortedUnique: false }).indices).toEqual(Int32Array.of(0, 0, 1));
    fails(() => readPointers(reader, 'indptr', 3, 3), 'strategies/knn/indptr', 'length');
    fails(() => readIndices(reader, 'indices', 1), 'strategies/knn/indices', '[2]');
    fails(() => readIndices(reader, 'indices', 3, 4), 'strategies/knn/indices', 'length');
    fails(() => readF32(reader, 'weights'), 'strategies/knn/weights', '[1]');
    fails(() => readF32(reader, 'indices'), 'strategies/knn/indices', 'dtype');
    expect(artifactError(() => readF32(reader, 'nope')).section).toBe('strategies/knn/nope');
  });

  it('stateInteger and stateNumber name the section and the key', () => {
    const state: JsonObject = { nItems: 5, bad: 2.5, text: '5', weight: 0.5, nan: null };
    expect(stateInteger(state, 'nItems', 'strategies/knn', { min: 0 })).toBe(5);
    fails(() => stateInteger(state, 'bad', 'strategies/knn'), 'strategies/knn', 'bad');
    fails(() => stateInteger(state, 'text', 'strategies/knn'), 'strategies/knn', 'text');
    fails(() => stateInteger(state, 'missing', 'strategies/knn'), 'strategies/knn', 'missing');
    fails(() => stateInteger(state, 'nItems', 'strategies/knn', { max: 4 }), 'strategies/knn', 'nItems');
    expect(stateNumber(state, 'weight', 's', { min: 0, max: 1 })).toBe(0.5);
    fails(() => stateNumber(state, 'nan', 's'), 's', 'nan');
    fails(() => stateNumber(state, 'weight', 's', { min: 0.5, exclusiveMin: true }), 's', 'weight');
  });
});
