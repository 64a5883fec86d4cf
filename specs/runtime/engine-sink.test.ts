/**
 * Engine.submitTo and submitIfRoomTo answer a sink of the caller's own (CommandSink: the executor's sends, the venue
 * reports) instead of a promise. Same outcomes as submit and submitIfRoom: resolved once durable and after the
 * batch's promises, never from inside the call; refused when the log's queue is full, the log is dead or the engine
 * closed; a decision that wrote nothing answered once what is queued before it is durable.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import type { FundCommand } from '../../src/kernel/admin-commands.ts'
import { Engine, EngineOverloadedError, type CommandSink, type Committed } from '../../src/runtime/engine.ts'
import { Wal } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

function fund(amount: bigint, reference: string): FundCommand {
  return { kind: 'fund', nowMs: 1, principalId: 'olga', accountId: 'acct-1', asset: 'USD', amount, reference }
}

/** A sink that records what it was told, in order, into `seen`. */
function sinkOf(name: string, seen: string[]): CommandSink & { settled: Promise<Committed | unknown> } {
  const { promise, resolve } = Promise.withResolvers<Committed | unknown>()
  return {
    settled: promise,
    resolve: (committed) => {
      seen.push(`${name} resolved ${committed.lsns.join(',')}`)
      resolve(committed)
    },
    reject: (error) => {
      seen.push(`${name} rejected ${(error as { code?: string }).code ?? String(error)}`)
      resolve(error)
    },
  }
}

describe('Engine.submitTo', () => {
  test('a sink is told once its records are durable, after the promises of its batch, never from inside the call', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    const engine = Engine.replay(wal)
    const seen: string[] = []
    const sink = sinkOf('sink', seen)
    engine.submitTo(fund(100n, 'one'), sink)
    const promised = engine.submit(fund(5n, 'two')).then((committed) => seen.push(`promise resolved ${committed.lsns.join(',')}`))
    expect(seen).toEqual([])
    expect(engine.pending).toBe(2)
    await sink.settled
    await promised
    // The sink runs when the batch lands, before the promise's reaction; both after the log took the batch.
    expect(seen).toEqual(['sink resolved 1', 'promise resolved 2'])
    expect(wal.lastLsn).toBe(2)
    await engine.settled()
    expect(engine.pending).toBe(0)
    await wal.close()
  })

  test('a decision that wrote nothing is answered to the sink once the records before it are durable', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    const engine = Engine.replay(wal)
    const seen: string[] = []
    engine.submitTo(fund(100n, 'one'), sinkOf('first', seen))
    const nothing = sinkOf('nothing', seen)
    engine.submitTo({ kind: 'mark_suspects', nowMs: 1 }, nothing)
    expect(seen).toEqual([])
    await nothing.settled
    expect(seen).toEqual(['first resolved 1', 'nothing resolved '])
    await wal.close()
  })

  test('a full log queue: submitIfRoomTo answers false and tells the sink nothing; submitTo rejects it with OVERLOADED', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none', queueRecordsMax: 1 })
    const engine = Engine.replay(wal)
    const seen: string[] = []
    engine.submitTo(fund(100n, 'one'), sinkOf('first', seen))
    expect(engine.submitIfRoomTo(fund(5n, 'two'), sinkOf('no room', seen))).toBe(false)
    const refused = sinkOf('refused', seen)
    engine.submitTo(fund(5n, 'three'), refused)
    expect(seen).toEqual([])
    expect(await refused.settled).toBeInstanceOf(EngineOverloadedError)
    await engine.settled()
    expect(seen).toEqual(['refused rejected OVERLOADED', 'first resolved 1'])
    expect(engine.state.lastLsn).toBe(1)
    await wal.close()
  })

  test('a closed engine rejects the sink with its reason, later', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    const engine = Engine.replay(wal)
    engine.closeForStop('stopping')
    const seen: string[] = []
    const sink = sinkOf('closed', seen)
    expect(engine.submitIfRoomTo(fund(100n, 'one'), sink)).toBe(true)
    expect(seen).toEqual([])
    expect(String(await sink.settled)).toContain('stopping')
    await wal.close()
  })
})
