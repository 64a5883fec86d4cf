/**
 * The engine applies a decision's events before the log has written them, at the LSNs it predicts (the log's next
 * ones, in order). A record the log took from anywhere else moves the log on under it: the prediction no longer
 * holds, and the commit fails loudly rather than let the state and its listeners carry the wrong positions.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import type { FundCommand } from '../../src/kernel/commands.ts'
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
