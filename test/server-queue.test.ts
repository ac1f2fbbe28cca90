/**
 * The serving pool's shared task queue (src/server/queue.ts), both sides on one thread: tasks
 * come out in order and intact (multi-byte text, records wrapping at the ring's end), a full
 * ring refuses without losing anything, the running-task word follows take/finished, and a
 * task that could never fit is a TaskTooLargeError. Then a pool on a ring too small for its
 * tasks: the ones that wait for room are answered too, exactly as in process.
 */
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { fitDemoRecommender } from '../examples/shared';
import { ModelPool, ServingModel, type Task } from '../src/server/index';
import { TaskQueue, TaskTaker, TaskTooLargeError } from '../src/server/queue';

describe('shared task queue', () => {
  it('hands out every task once, in order and byte-exact, across many wraps of a small ring', () => {
    const queue = TaskQueue.create(1024, 2);
    const takers = [new TaskTaker(queue.memory, 0), new TaskTaker(queue.memory, 1)];
    const texts = Array.from({ length: 400 }, (_, i) => JSON.stringify({ i, user: 'é€𝄞'.repeat(i % 37), pad: 'x'.repeat((i * 7) % 50) }));
    const taken: Array<{ id: number; text: string }> = [];
    let next = 0;
    let turn = 0;
    while (taken.length < texts.length) {
      // Fill until the ring refuses, then drain a few with alternating takers.
      while (next < texts.length && queue.push(next + 1, texts[next])) next++;
      for (let k = 0; k < 3; k++) {
        const t = takers[turn++ % 2].take();
        if (t) taken.push(t);
      }
    }
    expect(taken.map((t) => t.id)).toEqual(texts.map((_, i) => i + 1));
    expect(taken.map((t) => t.text)).toEqual(texts);
    expect(takers[0].take()).toBeNull();
  });

  it('a full ring refuses the next task and takes it once workers have made room (the wrap gap counts)', () => {
    const queue = TaskQueue.create(1024, 1);
    const taker = new TaskTaker(queue.memory, 0);
    const text = 'a'.repeat(200); // 208 bytes a record: four fit in 1,024 (one byte always stays free)
    expect([1, 2, 3, 4].map((id) => queue.push(id, text))).toEqual([true, true, true, true]);
    expect(queue.push(5, text)).toBe(false);
    expect(taker.take()?.id).toBe(1);
    // 192 bytes left before the end: the record goes to 0 and the gap is in use until taken past.
    expect(queue.push(5, text)).toBe(false);
    expect(taker.take()?.id).toBe(2);
    expect(queue.push(5, text)).toBe(true);
    expect([3, 4, 5].map(() => taker.take()?.id)).toEqual([3, 4, 5]);
    expect(taker.take()).toBeNull();
  });

  it('marks the task a worker runs until it has finished', () => {
    const queue = TaskQueue.create(1024, 2);
    const taker = new TaskTaker(queue.memory, 1);
    queue.push(7, '{}');
    expect(queue.running(1)).toBe(0);
    taker.take();
    expect(queue.running(1)).toBe(7);
    expect(queue.running(0)).toBe(0);
    taker.finished();
    expect(queue.running(1)).toBe(0);
  });

  it('frees the lock of a worker that died holding it, and only that one', () => {
    const queue = TaskQueue.create(1024, 2);
    // Control word 3 is the lock (queue.ts layout); worker 0 holding it is the value 1.
    const words = new Int32Array(queue.memory.control);
    queue.push(5, '{"a":1}');
    Atomics.store(words, 3, 1);
    queue.releaseLockOf(1);
    expect(Atomics.load(words, 3)).toBe(1);
    queue.releaseLockOf(0);
    expect(Atomics.load(words, 3)).toBe(0);
    expect(new TaskTaker(queue.memory, 1).take()).toEqual({ id: 5, text: '{"a":1}' });
  });

  it('refuses a task larger than the ring, and a ring of a bad size', () => {
    const queue = TaskQueue.create(1024, 1);
    expect(() => queue.push(1, 'x'.repeat(1020))).toThrow(TaskTooLargeError);
    expect(() => TaskQueue.create(1026, 1)).toThrow(/multiple of 4/);
    // A sleeping worker returns at once when a task already waits.
    queue.push(2, '{}');
    new TaskTaker(queue.memory, 0).sleep();
  });
});

describe('a pool whose ring holds only a few tasks', () => {
  it('answers every task exactly as in process (the rest wait on the HTTP thread for room), and refuses one that cannot fit', async () => {
    const rec = (await fitDemoRecommender({ users: 120, products: 90, seed: 6, quiet: true, neural: false })).recommender;
    const bytes = rec.save();
    const pool = await ModelPool.open(bytes, { workers: 2, queueBytes: 1024 });
    const inline = await ServingModel.load(bytes);
    try {
      const users = rec.dataset.users;
      // About 100 bytes each: at most 9 fit the ring at once.
      const tasks: Task[] = Array.from({ length: 40 }, (_, u) => ({ op: 'recommend', shopper: { user: users.id(u) }, options: { k: 5 + (u % 3), explain: u % 2 === 0 } }));
      const answers = tasks.map((t) => pool.run(t));
      expect(pool.pending).toBe(40);
      expect(await Promise.all(answers)).toEqual(await Promise.all(tasks.map((t) => inline.run(t))));
      expect(pool.pending).toBe(0);
      const huge: Task = { op: 'recommend', shopper: { history: Array(200).fill('x'.repeat(10)) }, options: { k: 5, explain: false } };
      await expect(pool.run(huge)).rejects.toBeInstanceOf(TaskTooLargeError);
      expect(pool.pending).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

describe('a serving worker that dies mid-task', () => {
  it('fails only the task it was running; the others are answered exactly and the pool replaces it', async () => {
    const rec = (await fitDemoRecommender({ users: 120, products: 90, seed: 6, quiet: true, neural: false })).recommender;
    const bytes = rec.save();
    const pool = await ModelPool.open(bytes, { workers: 2 });
    const inline = await ServingModel.load(bytes);
    // The generation's internals this test reaches into: its workers by place, and its queue.
    const generation = (pool as unknown as { current: { threads: Array<Worker | null>; queue: TaskQueue } }).current;
    const wait = (ms: number) => new Promise((done) => setTimeout(done, ms));
    try {
      const users = rec.dataset.users;
      // A whole-catalogue batch with explanations: long enough to be killed while it runs.
      const heavy: Task = { op: 'batch', shoppers: Array.from({ length: users.size }, (_, u) => ({ user: users.id(u) })), options: { k: 20, explain: true } };
      const expected = await inline.run(heavy);
      const answers = Array.from({ length: 8 }, () => pool.run(heavy));
      while (generation.queue.running(0) === 0) await wait(1);
      const victim = generation.threads[0]!;
      await victim.terminate();
      const settled = await Promise.allSettled(answers);
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(failed.length).toBeLessThanOrEqual(1);
      for (const f of failed) expect((f.reason as Error).message).toMatch(/a serving worker exited/);
      for (const s of settled) if (s.status === 'fulfilled') expect(s.value).toBe(expected);
      for (let t = 0; t < 400 && (generation.threads[0] === null || generation.threads[0] === victim); t++) await wait(25);
      expect(generation.threads[0]).not.toBeNull();
      expect(generation.threads[0]).not.toBe(victim);
      expect(await Promise.all([pool.run(heavy), pool.run(heavy), pool.run(heavy)])).toEqual([expected, expected, expected]);
      expect(pool.pending).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
