/**
 * A FIX session's sequence numbers are saved through the engine's log (serve-fix.ts engineSeqNumLog). A save the log's
 * queue has no room for waits for room and goes again: taken for a failed store, one full moment ended the session for
 * good (state failed, no reconnect), and the venue's open orders could not be cancelled until a restart. A dead
 * or closed log still fails the save at once.
 */

import { expect, test } from 'bun:test'
import { engineSeqNumLog } from '../../src/cli/serve-fix.ts'
import type { Engine } from '../../src/runtime/engine.ts'
import { EngineOverloadedError } from '../../src/runtime/engine-types.ts'

function engineRefusing(refusals: number, fatalError: Error | null = null, isClosed = false): { engine: Engine; tries: () => number } {
  let tries = 0
  const engine = {
    wal: { fatalError, isClosed },
    appendRecords: async () => {
      tries++
      if (fatalError !== null) throw fatalError
      // A closed log has no room either, and says so the same way (engine.ts appendRecords).
      if (isClosed || tries <= refusals) throw new EngineOverloadedError('log queue full')
      return [41]
    },
  } as unknown as Engine
  return { engine, tries: () => tries }
}

test('a save the log has no room for waits and goes again until it is taken, the waits doubling to 200 ms', async () => {
  const { engine, tries } = engineRefusing(6)
  const waits: number[] = []
  const log = engineSeqNumLog(() => engine, async (ms) => void waits.push(ms))
  expect(await log.append([])).toEqual([41])
  expect(tries()).toBe(7)
  expect(waits).toEqual([10, 20, 40, 80, 160, 200])
})

test('a dead log fails the save at once, whatever it says', async () => {
  const dead = new Error('fsync failed')
  const { engine, tries } = engineRefusing(0, dead)
  const log = engineSeqNumLog(() => engine, async () => undefined)
  await expect(log.append([])).rejects.toBe(dead)
  expect(tries()).toBe(1)
})

test('a closed log fails the save at once: its "full" is not waited for (a failed start closes it without closeForStop)', async () => {
  const { engine, tries } = engineRefusing(0, null, true)
  const log = engineSeqNumLog(() => engine, async () => undefined)
  await expect(log.append([])).rejects.toBeInstanceOf(EngineOverloadedError)
  expect(tries()).toBe(1)
})
