/** Kernels only the pool tests run (WorkerPool's `modules` option loads this file in each worker). */
import { DataError } from '../src/errors';
import { defineKernel } from '../src/util/parallel';

/** Throws a typed error with fields from the range holding unit `badUnit`. */
export const failingKernel = defineKernel('test.fails', (input: { badUnit: number }, start: number, end: number): number => {
  if (input.badUnit >= start && input.badUnit < end) throw new DataError(`bad unit ${input.badUnit}`, { file: 'orders.csv', line: input.badUnit + 2, field: 'quantity' });
  return end - start;
});

/** Busy-waits `ms` per range (a slow job to abort), returning the range start. */
export const spinKernel = defineKernel('test.spin', (input: { ms: number }, start: number): number => {
  const until = Date.now() + input.ms;
  while (Date.now() < until);
  return start;
});
