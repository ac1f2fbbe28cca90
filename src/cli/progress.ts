/**
 * Progress bars with ETA for the library's onProgress events (cli-progress): one bar per
 * stage, created when the stage first reports and stopped when it is done. On a terminal that
 * is not a TTY, one line per finished stage instead.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../strategies/types';

export interface ProgressBars {
  onProgress(p: Progress): void;
  /** Seconds from each stage's first report to its last. */
  readonly seconds: Record<string, number>;
  stop(): void;
}

export function progressBars(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): ProgressBars {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true && !options.quiet;
  const multi = tty
    ? new cliProgress.MultiBar(
        {
          stream,
          format: '{stage} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {duration_formatted}',
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
          autopadding: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const bars = new Map<string, cliProgress.SingleBar>();
  const started = new Map<string, number>();
  const seconds: Record<string, number> = {};
  const done = new Set<string>();
  const width = 34;
  return {
    seconds,
    onProgress(p) {
      const now = performance.now();
      if (!started.has(p.stage)) started.set(p.stage, now);
      seconds[p.stage] = (now - started.get(p.stage)!) / 1000;
      const total = Math.max(p.total, 1);
      const label = p.stage.length > width ? `…${p.stage.slice(-(width - 1))}` : p.stage.padEnd(width);
      if (multi) {
        let bar = bars.get(p.stage);
        if (!bar) {
          bar = multi.create(total, 0, { stage: label });
          bars.set(p.stage, bar);
        }
        bar.setTotal(total);
        bar.update(Math.min(p.done, total), { stage: label });
      } else if (!options.quiet && p.done >= p.total && !done.has(p.stage)) {
        done.add(p.stage);
        stream.write(`${p.stage}: done in ${seconds[p.stage].toFixed(1)} s\n`);
      }
    },
    stop() {
      multi?.stop();
    },
  };
}
