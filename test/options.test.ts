import { describe, expect, it } from 'vitest';
import { ArtifactError, OptionError } from '../src/errors';
import { arrayOf, boolean, integer, nullable, number, oneOf, optionsFromArtifact, optionsToJson, resolveOptions, type OptionChecks } from '../src/util/options';

interface Opts {
  neighbors: number;
  shrink: number;
  mode: 'a' | 'b';
  cap: number;
  layers: readonly number[];
  path: string | null;
  flag: boolean;
}
const DEFAULTS: Opts = { neighbors: 50, shrink: 10, mode: 'a', cap: Infinity, layers: [4, 2], path: null, flag: false };
const CHECKS: OptionChecks<Opts> = {
  neighbors: integer({ min: 1 }),
  shrink: number({ min: 0 }),
  mode: oneOf(['a', 'b']),
  cap: integer({ min: 1, infinity: true }),
  layers: arrayOf(integer({ min: 1 }), { min: 1 }),
  path: nullable((v, name) => {
    if (typeof v !== 'string') throw new OptionError(name, 'must be a string');
    return v;
  }),
  flag: boolean(),
};

describe('resolveOptions', () => {
  it('fills defaults for missing and undefined keys and freezes a fresh copy', () => {
    const o = resolveOptions('Thing', DEFAULTS, { neighbors: 20, shrink: undefined }, CHECKS);
    expect(o).toEqual({ ...DEFAULTS, neighbors: 20 });
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.layers)).toBe(true);
    expect(o.layers).not.toBe(DEFAULTS.layers);
    expect(resolveOptions('Thing', DEFAULTS, undefined, CHECKS)).toEqual(DEFAULTS);
  });

  it('rejects an unknown key and suggests the nearest known one', () => {
    expect(() => resolveOptions('ItemKNN', DEFAULTS, { neighbours: 20 }, CHECKS)).toThrow(/ItemKNN\.neighbours: unknown option; did you mean "neighbors"\?/);
    expect(() => resolveOptions('ItemKNN', DEFAULTS, { Shrink: 1 }, CHECKS)).toThrow(/did you mean "shrink"/);
    expect(() => resolveOptions('ItemKNN', DEFAULTS, { zzzzzzzz: 1 }, CHECKS)).toThrow(/known options: neighbors, shrink/);
  });

  it('checks values and names the option', () => {
    expect(() => resolveOptions('T', DEFAULTS, { neighbors: 0 }, CHECKS)).toThrow(OptionError);
    expect(() => resolveOptions('T', DEFAULTS, { neighbors: 2.5 }, CHECKS)).toThrow(/T\.neighbors: must be an integer >= 1, got 2.5/);
    expect(() => resolveOptions('T', DEFAULTS, { shrink: NaN }, CHECKS)).toThrow(/T\.shrink/);
    expect(() => resolveOptions('T', DEFAULTS, { shrink: Infinity }, CHECKS)).toThrow(/T\.shrink/);
    expect(() => resolveOptions('T', DEFAULTS, { mode: 'c' }, CHECKS)).toThrow(/must be one of 'a', 'b', got "c"/);
    expect(() => resolveOptions('T', DEFAULTS, { layers: [1, 0] }, CHECKS)).toThrow(/T\.layers\[1\]/);
    expect(() => resolveOptions('T', DEFAULTS, { flag: 1 }, CHECKS)).toThrow(/must be true or false, got 1/);
    expect(() => resolveOptions('T', DEFAULTS, 5, CHECKS)).toThrow(/T: options must be a plain object, got 5/);
    expect(() => resolveOptions('T', DEFAULTS, null, CHECKS)).toThrow(OptionError);
    expect(resolveOptions('T', DEFAULTS, { cap: Infinity }, CHECKS).cap).toBe(Infinity);
  });

  it('cannot be used to change a default process-wide', () => {
    const o = resolveOptions('T', DEFAULTS, {}, CHECKS) as Opts;
    expect(() => {
      (o as { neighbors: number }).neighbors = 3;
    }).toThrow(TypeError);
    expect(resolveOptions('T', DEFAULTS, {}, CHECKS).neighbors).toBe(50);
  });
});

describe('options in artifacts', () => {
  it('round-trips through JSON, Infinity and null included', () => {
    const o = resolveOptions('T', DEFAULTS, { path: '/x', neighbors: 7 }, CHECKS);
    const json = JSON.parse(JSON.stringify(optionsToJson(o)));
    expect(json.cap).toBeNull();
    expect(optionsFromArtifact('T', json, CHECKS, 'strategies/t')).toEqual(o);
    const withNull = JSON.parse(JSON.stringify(optionsToJson(resolveOptions('T', DEFAULTS, {}, CHECKS))));
    expect(optionsFromArtifact('T', withNull, CHECKS, 's').path).toBeNull();
  });

  it('names the section and field of a missing, unknown or bad stored option', () => {
    const json = optionsToJson(resolveOptions('T', DEFAULTS, {}, CHECKS));
    const { neighbors: _drop, ...missing } = json;
    expect(() => optionsFromArtifact('T', missing, CHECKS, 'strategies/t')).toThrow(/option "neighbors" is missing \(section "strategies\/t", field "options.neighbors"\)/);
    expect(() => optionsFromArtifact('T', { ...json, extra: 1 }, CHECKS, 's')).toThrow(ArtifactError);
    const bad = () => optionsFromArtifact('T', { ...json, neighbors: 'many' }, CHECKS, 'strategies/t');
    expect(bad).toThrow(ArtifactError);
    expect(bad).toThrow(/section "strategies\/t", field "options.neighbors"/);
    expect(() => optionsFromArtifact('T', { ...json, shrink: null }, CHECKS, 's')).toThrow(/got null/);
    expect(() => optionsFromArtifact('T', [1], CHECKS, 's')).toThrow(ArtifactError);
  });

  it('fills only the options added later from their given values, and still checks them', () => {
    const json = optionsToJson(resolveOptions('T', DEFAULTS, { neighbors: 7 }, CHECKS));
    const { neighbors: _drop, ...older } = json;
    expect(optionsFromArtifact('T', older, CHECKS, 's', 'options', { neighbors: 50 }).neighbors).toBe(50);
    // A stored value wins over the added-later one.
    expect(optionsFromArtifact('T', json, CHECKS, 's', 'options', { neighbors: 50 }).neighbors).toBe(7);
    // Another missing option is still an error, and so is a bad added-later value.
    const { path: _p, ...noPath } = older;
    expect(() => optionsFromArtifact('T', noPath, CHECKS, 's', 'options', { neighbors: 50 })).toThrow(/option "path" is missing/);
    expect(() => optionsFromArtifact('T', older, CHECKS, 's', 'options', { neighbors: -1 as number })).toThrow(OptionError);
  });
});
