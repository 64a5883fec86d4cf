/**
 * A log closed without the stop's drain (a start that failed part way: Gateway.abandon closes it as it is) refuses
 * what comes after with WalClosedError, as a drained stop does (stop-drain.ts isRefusedAtStop), not "log queue full;
 * retry later". Work the start left running answered so once the log closed: bootstrap's listing of the venues egress
 * holds no open order at, answering after such a start, reported EngineOverloadedError to onError (review, by
 * reading; reproduced with a world whose list answered after the abandon).
 */

import { afterEach, expect, test } from 'bun:test'
import type { FundCommand } from '../../src/kernel/admin-commands.ts'
import { Engine, type CommandSink } from '../../src/runtime/engine.ts'
import { isRefusedAtStop } from '../../src/runtime/stop-drain.ts'
import { Wal } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

function fund(reference: string): FundCommand {
  return { kind: 'fund', nowMs: 1, principalId: 'olga', accountId: 'acct-1', asset: 'USD', amount: 1n, reference }
}

test('a command, a sink or records given to an engine whose log closed without the drain are refused as at a stop', async () => {
  const wal = Wal.open(tempDir(), { durability: 'none' })
  const engine = Engine.replay(wal)
  await engine.submit(fund('before'))
  await wal.close()
  const refusals: unknown[] = []
  await engine.submit(fund('after')).catch((error: unknown) => refusals.push(error))
  await engine.submitIfRoom(fund('after-if-room'))?.catch((error: unknown) => refusals.push(error))
  const { promise, resolve } = Promise.withResolvers<void>()
  const sink: CommandSink = { resolve: () => resolve(), reject: (error) => void (refusals.push(error), resolve()) }
  engine.submitTo(fund('after-sink'), sink)
  await promise
  await engine.appendRecords([{ type: 0xa0ff, version: 1, payload: new Uint8Array(1) }]).catch((error: unknown) => refusals.push(error))
  expect(refusals.map((error) => (error as Error).name)).toEqual(['WalClosedError', 'WalClosedError', 'WalClosedError', 'WalClosedError'])
  expect(refusals.every(isRefusedAtStop)).toBe(true)
})
