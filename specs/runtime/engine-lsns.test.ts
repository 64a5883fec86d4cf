/**
 * The engine applies a decision's events before the log has written them, at the LSNs it predicts (the log's next
 * ones, in order). A record the log took from anywhere else moves the log on under it: the prediction no longer
 * holds, and the commit fails loudly rather than let the state and its listeners carry the wrong positions.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { AppliedRecord } from '../../src/runtime/applied-record.ts'
import type { Decision } from '../../src/kernel/commands.ts'
import type { FundCommand } from '../../src/kernel/admin-commands.ts'
import { Engine, type AppliedEvent } from '../../src/runtime/engine.ts'
import { Wal } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

function fund(amount: bigint, reference: string): FundCommand {
  return { kind: 'fund', nowMs: 1, principalId: 'olga', accountId: 'acct-1', asset: 'USD', amount, reference }
}

describe('engine LSN prediction', () => {
  test('events are applied and heard at the LSNs the log assigns, commands and appended records interleaved', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    const engine = Engine.replay(wal)
    const heard: number[] = []
    engine.onDurable((events: AppliedEvent[]) => void heard.push(...events.map((applied) => applied.lsn)))
    const first = engine.submit(fund(100n, 'one'))
    const seal = engine.appendRecords([{ type: 0x7001, version: 1, payload: new Uint8Array([1, 2, 3]) }])
    const second = engine.submit(fund(5n, 'two'))
    expect((await first).lsns).toEqual([1])
    expect(await seal).toEqual([2])
    expect((await second).lsns).toEqual([3])
    expect(heard).toEqual([1, 3])
    expect(engine.state.lastLsn).toBe(3)
    await wal.close()
  })

  test('a record appended to the log behind the engine makes its next commit fail with the predicted and actual LSN', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    const engine = Engine.replay(wal)
    await engine.submit(fund(100n, 'one'))
    await wal.append([{ type: 0x7001, version: 1, payload: new Uint8Array([9]) }])
    await expect(engine.submit(fund(5n, 'two'))).rejects.toThrow('engine predicted LSN 2, log assigned 3: another writer?')
    await wal.close()
  })
})

describe('a decision whose apply fails halfway', () => {
  // Applying runs ahead of the log: the first events of the decision are in memory with their LSNs reserved when a
  // later one throws (a kernel bug; simulation seed 5171 had one). Before, the engine went on deciding from that
  // memory: the decision never reached the log, every later commit failed its LSN check, and what it had applied
  // (a call ended, an order retired) stayed in memory only.
  test('halts the log: that command and every later one are refused with WAL_FATAL, died resolves, nothing is written', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir, { durability: 'none' })
    const engine = Engine.replay(wal)
    await engine.submit(fund(100n, 'one'))
    const funded = engine.submit(fund(5n, 'two'))
    const { decision } = await funded
    const broken: Decision = {
      events: [decision.events[0] as DomainEvent, { type: 'order.send_acked', atMs: 1, orderId: 'no-such-order', venueOrderId: 'v-1' }],
      reply: { kind: 'done' },
    }
    const commit = engine['commit'].bind(engine)
    const refused = commit(broken, broken.events.map((event) => new AppliedRecord(event)), null, null, fund(5n, 'two'))
    await expect(refused).rejects.toMatchObject({ code: 'WAL_FATAL' })
    await expect(refused).rejects.toThrow('applying order.send_acked (LSN 4, event 2 of its decision) failed')
    expect(await wal.died).toBe(wal.fatalError as Error)
    await expect(engine.submit(fund(1n, 'three'))).rejects.toMatchObject({ code: 'WAL_FATAL' })
    expect(wal.lastLsn).toBe(2)
    await wal.close()
    const reopened = Wal.open(dir, { durability: 'none' })
    expect(Engine.replay(reopened).state.lastLsn).toBe(2)
    await reopened.close()
  })
})
