/**
 * The serving pool's shared task queue (src/server/queue.ts), both sides on one thread: tasks
 * come out in order and intact (multi-byte text, records wrapping at the ring's end), a full
 * ring refuses without losing anything, the running-task word follows take/finished, and a
 * task that could never fit is a TaskTooLargeError. Then a pool on a ring too small for its
 * tasks: the ones that wait for room are answered too, exactly as in process.
 */
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
