/**
 * A back office opened while a batch is between its write and its fdatasync (the pipelined group commit): the HA
 * takeover opens one on a gateway whose first batches are in flight. The log must hand that batch's frames to the
 * new subscriber even though nobody was subscribed when it was written, else the projector never notes the batch's
 * LSNs and the engine's delivery of its events trips "back office expected LSN undefined from the engine, got N".
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { ledgerBalance, Projector } from '../../src/backoffice/index.ts'
import type { FundCommand } from '../../src/kernel/admin-commands.ts'
import { Engine } from '../../src/runtime/engine.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { Wal } from '../../wal/index.ts'
import { heldSyncIo, removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function fund(amount: bigint, reference: string): FundCommand {
  return { kind: 'fund', nowMs: 1, principalId: 'olga', accountId: 'acct-1', asset: 'USD', amount, reference }
}

describe('a back office opened while a batch is in flight', () => {
  test('notes the batch written before it subscribed once that batch is durable, and takes its events from the engine', async () => {
    const io = heldSyncIo()
    const wal = Wal.open(tempDir(), { io, preallocateBytes: 0 })
    const engine = Engine.replay(wal)
    const listenerErrors: string[] = []
    engine.onListenerError = (error) => void listenerErrors.push(String(error))
    const early = engine.submit(fund(100n, 'early'))
    await turn()
    // Written with no subscriber, its fdatasync in flight: not durable yet, so the new projector's scan stops before it.
    expect(io.held).toBe(1)
    expect(wal.lastLsn).toBe(0)
    const projector = Projector.open({ engine, clock: new SimClock({ startMs: 0 }), storePath: ':memory:', flushIntervalMs: 1e12, batchRowsMax: 1e9 })
    io.release()
    expect((await early).lsns).toEqual([1])
    expect(projector.appliedLsn).toBe(1)
    const later = engine.submit(fund(5n, 'later'))
    await turn()
    io.release()
    expect((await later).lsns).toEqual([2])
    expect(listenerErrors).toEqual([])
    expect(projector.appliedLsn).toBe(2)
    expect(ledgerBalance(projector.ledger, 'acct-1', 'USD')).toBe(105n)
    expect(projector.flush()).toBe(true)
    expect(projector.stats().storedLsn).toBe(2)
    projector.close()
    await wal.close()
  })
})
