import { describe, expect, it } from 'vitest';
import { anchor, buildReport, readResults, SKIPPED_PREFIXES, TOPIC_ORDER } from '../benchmarks/report';

/** A figure: a table row (not the header's separator) with a cell that is a number, possibly bold or with a unit after it. */
function figures(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[-:|\s]+\|$/.test(l))
    .flatMap((l) => l.split('|').map((c) => c.trim()))
    .filter((c) => /^\**[-+]?\d[\d,]*(\.\d+)?/.test(c));
}

describe('benchmarks/report.ts', async () => {
  const results = await readResults();
  const report = buildReport(results);

  it('draws figures from every results file it does not skip on purpose', () => {
    const drawn = results.filter((r) => !SKIPPED_PREFIXES.some((p) => r.file.startsWith(p)));
    expect(drawn.length).toBeGreaterThan(50);
    const empty = drawn.filter((r) => figures(report.byFile.get(r.file) ?? '').length === 0).map((r) => r.file);
    expect(empty).toEqual([]);
  });

  it('gives every drawn file its reproduce command in the document', () => {
    for (const { file, data } of results) {
      if (SKIPPED_PREFIXES.some((p) => file.startsWith(p)) || typeof data.command !== 'string') continue;
      // speed.ts and early ensemble-ab files record their flags, not a command: their renderers rebuild it.
      if (file.startsWith('speed-')) continue;
      // two-tower.ts records its argv without the shell quotes its JSON options need: the report adds them.
      expect(report.markdown.replace(/'/g, ''), file).toContain(data.command.replace(/'/g, ''));
    }
  });

  it('renders a file no renderer knows as a numeric summary, figures and command included', () => {
    const unknown = { file: 'brand-new.json', date: '2026-12-04', data: { command: 'npx tsx benchmarks/brand-new.ts --rounds 3', latency: { p99Ms: 1.25, samples: [3, 1, 2] }, label: 'x' } };
    const { byFile, markdown } = buildReport([unknown]);
    const chunk = byFile.get('brand-new.json')!;
    expect(figures(chunk)).toEqual(expect.arrayContaining(['1.25', '3 values: min 1, median 2, max 3']));
    expect(chunk).toContain('Reproduce: `npx tsx benchmarks/brand-new.ts --rounds 3`');
    expect(markdown).toContain('## Other results');
  });

  it('keeps the protocol tables first, under their headings, before speed and experiments', () => {
    const at = (h: string) => report.markdown.indexOf(`\n${h}\n`);
    for (const q of report.quality) expect(at(`## ${q.title}`), q.title).toBeGreaterThan(0);
    const lastProtocol = Math.max(...report.quality.map((q) => at(`## ${q.title}`)));
    expect(lastProtocol).toBeLessThan(at('# Speed: single-user, batch, fits, side by side, server'));
    expect(at('# Speed: single-user, batch, fits, side by side, server')).toBeLessThan(at('# Experiments and A/B history'));
  });

  it('names every section once, uses every ordered topic, and links the contents to real headings', () => {
    const headings = report.markdown.split('\n').filter((l) => /^#{2,3} /.test(l));
    expect(headings.filter((h, i) => headings.indexOf(h) !== i)).toEqual([]);
    const topics = new Set(headings.filter((h) => h.startsWith('## ')).map((h) => h.slice(3)));
    for (const t of Object.values(TOPIC_ORDER).flat()) expect(topics.has(t), t).toBe(true);
    const anchors = new Set(report.markdown.split('\n').filter((l) => /^#{1,4} /.test(l)).map((l) => anchor(l.replace(/^#+ /, ''))));
    const links = [...report.markdown.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  });

  it('orders the runs of a topic newest first', () => {
    const blocks = report.markdown.split('\n## ').slice(1);
    for (const block of blocks) {
      const dates = [...block.matchAll(/^### .*\((\d{4}-\d{2}-\d{2})\)$/gm)].map((m) => m[1]);
      expect([...dates].sort().reverse(), block.split('\n')[0]).toEqual(dates);
    }
  });
});
