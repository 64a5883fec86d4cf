/**
 * Durable listeners are isolated from each other: one that throws (a projection's invariant check) neither starves
 * the listeners after it nor turns a durable, applied command into a failed one; its failure goes to
 * onListenerError (the gateway reports it through onError). Without a handler the first failure is rethrown, after
 * every listener ran. With a handler, the commands one log batch made durable are told in one call, before any of
 * their callers resumes.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import type { FundCommand } from '../../src/kernel/admin-commands.ts'
import { Engine, type AppliedEvent } from '../../src/runtime/engine.ts'
import { Wal, copyFrame } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

function fund(amount: bigint, reference: string): FundCommand {
  return { kind: 'fund', nowMs: 1, principalId: 'olga', accountId: 'acct-1', asset: 'USD', amount, reference }
}

/** Three listeners, the middle one throwing on its first call; returns what each saw. */
function listen(engine: Engine): { first: number[]; third: number[]; middleCalls: () => number } {
  const first: number[] = []
  const third: number[] = []
  let middleCalls = 0
  const lsnsOf = (events: AppliedEvent[]): number[] => events.map((applied) => applied.lsn)
  engine.onDurable((events) => void first.push(...lsnsOf(events)))
  engine.onDurable(() => {
    middleCalls++
    if (middleCalls === 1) throw new Error('projection invariant broken')
  })
  engine.onDurable((events) => void third.push(...lsnsOf(events)))
  return { first, third, middleCalls: () => middleCalls }
}

describe('durable listeners', () => {
  test('a listener that throws does not starve the others; the command stays committed and the failure goes to onListenerError', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    const engine = Engine.replay(wal)
    const failures: string[] = []
    engine.onListenerError = (error) => void failures.push(error instanceof Error ? error.message : String(error))
    const seen = listen(engine)
    expect((await engine.submit(fund(100n, 'one'))).lsns).toEqual([1])
    expect((await engine.submit(fund(5n, 'two'))).lsns).toEqual([2])
    expect(seen.first).toEqual([1, 2])
    expect(seen.third).toEqual([1, 2])
    expect(seen.middleCalls()).toBe(2)
    expect(failures).toEqual(['projection invariant broken'])
    await wal.close()
  })

  test('without a handler every listener still runs, then the commit rejects with the failure', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    const engine = Engine.replay(wal)
    const seen = listen(engine)
    await expect(engine.submit(fund(100n, 'one'))).rejects.toThrow('projection invariant broken')
    expect(seen.first).toEqual([1])
    expect(seen.third).toEqual([1])
    expect(wal.lastLsn).toBe(1)
    await wal.close()
  })

  test('with a handler, the commands of one log batch are told in one call, before any of their callers resumes', async () => {
    const wal = Wal.open(tempDir(), { durability: 'fsync' })
    const engine = Engine.replay(wal)
    engine.onListenerError = (error) => {
      throw error
    }
    const calls: number[][] = []
    engine.onDurable((events) => void calls.push(events.map((applied) => applied.lsn)))
    const seenByCaller: number[][][] = []
    // Submitted in one turn: one log batch.
    const first = engine.submit(fund(100n, 'one')).then(() => void seenByCaller.push(calls.map((lsns) => [...lsns])))
    const second = engine.submit(fund(5n, 'two')).then(() => void seenByCaller.push(calls.map((lsns) => [...lsns])))
    await Promise.all([first, second])
    expect(wal.stats.batchCount).toBe(1)
    expect(calls).toEqual([[1, 2]])
    expect(seenByCaller).toEqual([[[1, 2]], [[1, 2]]])
    // A command of a later batch is told in a call of its own.
    await engine.submit(fund(1n, 'three'))
    expect(calls).toEqual([[1, 2], [3]])
    await wal.close()
  })

  test('without a handler each command is told alone', async () => {
    const wal = Wal.open(tempDir(), { durability: 'fsync' })
    const engine = Engine.replay(wal)
    const calls: number[][] = []
    engine.onDurable((events) => void calls.push(events.map((applied) => applied.lsn)))
    await Promise.all([engine.submit(fund(100n, 'one')), engine.submit(fund(5n, 'two'))])
    expect(wal.stats.batchCount).toBe(1)
    expect(calls).toEqual([[1], [2]])
    await wal.close()
  })

  test('a caller resumes before the settled() waiters its command releases', async () => {
    const wal = Wal.open(tempDir(), { durability: 'fsync' })
    const engine = Engine.replay(wal)
    const order: string[] = []
    const committed = engine.submit(fund(100n, 'one')).then(() => void order.push('caller'))
    const settled = engine.settled().then(() => void order.push('settled'))
    await Promise.all([committed, settled])
    expect(order).toEqual(['caller', 'settled'])
    expect(engine.pending).toBe(0)
    await wal.close()
  })

  test('a standby applying replicated frames isolates its listeners the same way', async () => {
    const leaderWal = Wal.open(tempDir(), { durability: 'none' })
    const leader = Engine.replay(leaderWal)
    await leader.submit(fund(100n, 'one'))
    await leader.submit(fund(5n, 'two'))
    const standbyWal = Wal.openReplica(tempDir(), { durability: 'none' })
    const standby = Engine.replay(standbyWal)
    const failures: unknown[] = []
    standby.onListenerError = (error) => void failures.push(error)
    const seen = listen(standby)
    const frames = Array.from(leaderWal.read(1), copyFrame)
    standby.applyReplicated(frames.slice(0, 1))
    standby.applyReplicated(frames.slice(1))
    expect(seen.first).toEqual([1, 2])
    expect(seen.third).toEqual([1, 2])
    expect(failures.length).toBe(1)
    await standbyWal.close()
    await leaderWal.close()
  })
})
