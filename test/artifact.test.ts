import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter, FORMAT_VERSION } from '../src/artifact/container';
import { ArtifactError, ArtifactVersionError } from '../src/errors';
import { crc32 } from '../src/artifact/crc32';

function sample(): Uint8Array {
  const w = new ArtifactWriter();
  w.array('a/f32', Float32Array.from([1.5, -2.25, Math.PI]));
  w.array('a/u8', Uint8Array.from([1, 2, 3]));
  const scoped = w.scope('b');
  scoped.array('f64', Float64Array.from([1e-300, 2, NaN]));
  scoped.strings('names', ['Organic Whole Milk', '', 'Crème Fraîche, 200 g', '日本']);
  return w.toBytes({ hello: 'world', n: 3 });
}

describe('artifact container', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips typed arrays, strings and the JSON root', () => {
    const r = ArtifactReader.open(sample());
    expect(r.root).toEqual({ hello: 'world', n: 3 });
    expect([...r.f32('a/f32')]).toEqual([1.5, -2.25, Math.fround(Math.PI)]);
    expect([...r.u8('a/u8')]).toEqual([1, 2, 3]);
    const b = r.scope('b');
    const f = b.f64('f64');
    expect(f[0]).toBe(1e-300);
    expect(Number.isNaN(f[2])).toBe(true);
    expect(b.strings('names')).toEqual(['Organic Whole Milk', '', 'Crème Fraîche, 200 g', '日本']);
  });

  it('reads sections from an unaligned copy (as from a file at an odd offset)', () => {
    const bytes = sample();
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const r = ArtifactReader.open(shifted.subarray(3));
    expect([...r.f32('a/f32')]).toEqual([1.5, -2.25, Math.fround(Math.PI)]);
  });

  it('names the missing section and rejects a wrong type', () => {
    const r = ArtifactReader.open(sample());
    expect(() => r.f32('nope')).toThrow(/missing section.*"nope"/);
    expect(() => r.i32('a/f32')).toThrow(ArtifactError);
  });

  it('rejects bad magic, truncation, bit flips and newer versions with typed errors', () => {
    const bytes = sample();
    expect(() => ArtifactReader.open(new Uint8Array(10))).toThrow(/truncated/);
    const badMagic = bytes.slice();
    badMagic[0] = 0x58;
    expect(() => ArtifactReader.open(badMagic)).toThrow(/magic/);
    expect(() => ArtifactReader.open(bytes.subarray(0, bytes.length - 9))).toThrow(/truncated/);
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, FORMAT_VERSION + 1, true);
    expect(() => ArtifactReader.open(newer)).toThrow(ArtifactVersionError);
    // Flip one bit at many positions of the manifest and data: each must be detected.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const dataStart = 24 + view.getUint32(12, true);
    for (let pos = 24; pos < bytes.length; pos += 7) {
      const flipped = bytes.slice();
      flipped[pos] ^= 0x10;
      if (pos >= dataStart && isPadding(bytes, pos)) continue;
      expect(() => ArtifactReader.open(flipped), `flip at ${pos}`).toThrow(ArtifactError);
    }
  });
});

/** Alignment padding between sections carries no data and no checksum. */
function isPadding(bytes: Uint8Array, pos: number): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(24, 24 + view.getUint32(12, true))));
  return !manifest.sections.some((s: { offset: number; length: number; dtype: string }) => {
    const size = { f32: 4, f64: 8, u8: 1, i32: 4 }[s.dtype] ?? 1;
    return pos >= s.offset && pos < s.offset + s.length * size;
  });
}
