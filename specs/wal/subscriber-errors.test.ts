/**
 * A subscriber that throws is a bug in that subscriber, not in the log: the other subscribers are still told about
 * the batch, the batch's waiters still resolve, and the error is handed to `onListenerError`.
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

test('a throwing subscriber neither starves the others nor holds the waiters; its error is reported', async () => {
  const wal = Wal.open(tempDir(), { preallocateBytes: 0 })
  const reported: unknown[] = []
  wal.onListenerError = (error) => void reported.push(error)
  const told: string[] = []
  wal.subscribe(() => {
    told.push('first')
    throw new Error('subscriber bug')
  })
  wal.subscribe((batch) => void told.push(`second ${batch.firstLsn}..${batch.lastLsn}`))
  expect(await wal.append([record('a'), record('b')])).toEqual([1, 2])
  expect(told).toEqual(['first', 'second 1..2'])
  expect(reported.map((error) => (error as Error).message)).toEqual(['subscriber bug'])
  expect(await wal.append([record('c')])).toEqual([3])
  expect(wal.lastLsn).toBe(3)
  expect(reported).toHaveLength(2)
  await wal.close()
})
