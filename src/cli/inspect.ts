/** `hybridrec inspect model.hrec`: what an artifact holds, without loading the model. */
import { ArtifactReader } from '../artifact/container';
import type { Json, JsonObject } from '../util/json';
import { sha256 } from '../node/runs';
import { formatBytes, table } from './format';

export interface ArtifactSummary {
  file: string;
  bytes: number;
  sha256: string;
  formatVersion: number;
  libraryVersion: string | null;
  strategies: Array<{ name: string; kind: string; options: Json }>;
  fallback: { kind: string; options: Json } | null;
  weights: Record<string, number> | null;
  normalization: string | null;
  /** Bytes of section data per part: data/users, data/interactions..., strategies/<name>, fallback. */
  sections: Record<string, number>;
  /** Whether the artifact holds user ids and purchase histories. */
  customerData: boolean;
  /** What `hybridrec fit` recorded: data source, fingerprint and sizes, seconds per stage. */
  fit: Json | null;
  /** The validation metrics weight tuning recorded at fit. */
  tuning: Json | null;
}

export function summarizeArtifact(bytes: Uint8Array, file: string): ArtifactSummary {
  const reader = ArtifactReader.open(bytes);
  const root = (reader.root ?? {}) as JsonObject;
  const specs = (root.strategies ?? {}) as Record<string, { kind: string; state: Json }>;
  const order = (Array.isArray(root.order) ? root.order : Object.keys(specs)) as string[];
  const stored = (root.options ?? {}) as JsonObject;
  const sections: Record<string, number> = {};
  let userIds = 0;
  for (const name of reader.sectionNames) {
    const array = reader.array(name);
    const part = sectionPart(name);
    sections[part] = (sections[part] ?? 0) + array.byteLength;
    if (name === 'data/users#offsets') userIds = array.length - 1;
  }
  const fallback = root.fallback as { kind: string; state: Json } | null | undefined;
  return {
    file,
    bytes: bytes.byteLength,
    sha256: sha256(bytes),
    formatVersion: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true),
    libraryVersion: typeof root.libraryVersion === 'string' ? root.libraryVersion : null,
    strategies: order.map((name) => ({ name, kind: specs[name]?.kind, options: specs[name]?.state ?? null })),
    fallback: fallback ? { kind: fallback.kind, options: fallback.state } : null,
    weights: ((root.weights ?? stored.weights) as Record<string, number> | undefined) ?? null,
    normalization: ((root.normalization ?? stored.normalization) as string | undefined) ?? null,
    sections,
    // The manifest's flag (save({ customerData: false }) writes false); artifacts written before it have user ids or none.
    customerData: typeof root.customerData === 'boolean' ? root.customerData : userIds > 0,
    fit: ((root.annotations as JsonObject | undefined)?.fit as Json | undefined) ?? null,
    tuning: (root.tuning as Json | undefined) ?? null,
  };
}

/** "data/interactions/indptr" -> "data/interactions"; "strategies/itemknn/x" -> "strategies/itemknn"; string parts lose "#offsets". */
function sectionPart(name: string): string {
  const parts = name.replace(/#(offsets|utf8)$/, '').split('/');
  return parts.slice(0, parts[0] === 'fallback' ? 1 : 2).join('/');
}

export function formatSummary(s: ArtifactSummary): string {
  const lines: string[] = [];
  lines.push(`${s.file}: ${formatBytes(s.bytes)}, format version ${s.formatVersion}, written by hybridrec ${s.libraryVersion ?? '?'}`);
  lines.push(`sha256 ${s.sha256}`);
  lines.push(`customer data: ${s.customerData ? 'yes (user ids and purchase histories: GET /recommend?user= works; do not ship it to browsers)' : 'no (a serving artifact: requests bring the history)'}`);
  if (s.normalization) lines.push(`normalization: ${s.normalization}`);
  lines.push('', 'strategies:');
  lines.push(
    table(
      ['name', 'kind', 'weight', 'size', 'options'],
      s.strategies.map((x) => [x.name, x.kind, s.weights?.[x.name] ?? 1, formatBytes(s.sections[`strategies/${x.name}`] ?? 0), compact(x.options)]),
    ),
  );
  if (s.fallback) lines.push(`fallback: ${s.fallback.kind} ${compact(s.fallback.options)}`);
  lines.push('', 'sections:');
  lines.push(table(['part', 'bytes'], Object.entries(s.sections).map(([part, n]) => [part, formatBytes(n)])));
  const fit = s.fit as { source?: string; fingerprint?: string; fittedAt?: string; seconds?: Record<string, number>; data?: Record<string, number> } | null;
  lines.push('');
  if (fit) {
    lines.push(`fitted ${fit.fittedAt ?? '?'} on ${fit.source ?? '?'}`);
    if (fit.fingerprint) lines.push(`data fingerprint ${fit.fingerprint}`);
    if (fit.data) lines.push(`data: ${Object.entries(fit.data).map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`).join(', ')}`);
    if (fit.seconds) lines.push(`fit seconds: ${Object.entries(fit.seconds).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  } else {
    lines.push('fit record: none (not written by hybridrec fit)');
  }
  const t = s.tuning as { protocol?: string; metric?: string; k?: number; score?: number; baseline?: number; single?: Record<string, number>; queries?: number } | null;
  if (t && typeof t.score === 'number') {
    lines.push(`metrics at fit (weight tuning, ${t.protocol} validation split of the training data, ${t.queries} queries, ${t.metric}@${t.k}):`);
    lines.push(table(['ranker', String(t.metric)], [['ensemble (tuned)', t.score], ['equal weights', t.baseline ?? NaN], ...Object.entries(t.single ?? {}).map(([n, v]) => [n, v] as [string, number])]));
  } else {
    lines.push('metrics at fit: none (weights were given, not tuned)');
  }
  return lines.join('\n');
}

function compact(value: Json): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > 90 ? `${text.slice(0, 89)}…` : text;
}
