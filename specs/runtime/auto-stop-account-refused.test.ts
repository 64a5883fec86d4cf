/**
 * An account's trip (order_rate, scope account: src/runtime/auto-stop.ts tripAccount) that the engine refuses (its
 * log's queue full: nothing applied) is not retried in a loop: the runaway's orders accepted meanwhile submit nothing,
 * and the account may trip again only from the next evaluation on (evaluateEveryMs later), as a refused trip of the
 * gateway's switch (auto-stop-refused.test.ts). Another account is counted and tripped as ever. Each refusal is told
 * to onError once.
 */

import { expect, test } from 'bun:test'
import { initialState } from '../../src/kernel/index.ts'
import { AutoStop } from '../../src/runtime/auto-stop.ts'
import type { Engine } from '../../src/runtime/engine.ts'
import { EngineOverloadedError } from '../../src/runtime/engine-types.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { T0 } from './harness.ts'

test("a refused account trip waits for the next evaluation, whatever the runaway's orders do meanwhile", async () => {
  const clock = new SimClock({ startMs: T0 })
  const submits: { atMs: number; accountId: unknown }[] = []
  let listener: ((applied: { event: unknown }[]) => void) | null = null
  const engine = {
    state: initialState(),
    // The log's queue bound: the switch is decided in parts sized to it (src/runtime/decision-parts.ts).
    wal: { options: { queueRecordsMax: 65_536 } },
    onDurable: (handler: (applied: { event: unknown }[]) => void) => {
      listener = handler
      return () => {
        listener = null
      }
    },
    submit: (command: { accountId?: unknown }) => {
      submits.push({ atMs: clock.nowMs(), accountId: command.accountId })
      return Promise.reject(new EngineOverloadedError('log queue full; retry later'))
    },
  } as unknown as Engine
  const errors: string[] = []
  const autoStop = new AutoStop({
    engine,
    clock,
    config: { evaluateEveryMs: 1_000, orderRate: { windowMs: 60_000, ordersMax: 2, scope: 'account', action: 'HALT' } },
    answeredLocally: () => false,
    onError: (_error, context) => void errors.push(context),
  })
  autoStop.start()
  const accepted = (accountId: string): void => listener?.([{ event: { type: 'order.accepted', accountId, flattenId: null } }])
  // acct-1's third order trips it; the engine refuses. Its next 50 orders, 10 ms apart, submit nothing.
  for (let index = 0; index < 53; index++) {
    accepted('acct-1')
    await clock.advanceAsync(10)
  }
  expect(submits).toEqual([{ atMs: T0 + 20, accountId: 'acct-1' }])
  // Another account is not held by acct-1's refusal: its third order trips it.
  for (let index = 0; index < 3; index++) accepted('acct-2')
  await clock.advanceAsync(10)
  expect(submits.map((submit) => submit.accountId)).toEqual(['acct-1', 'acct-2'])
  // Past the evaluation after the refusal, acct-1's next order trips it again, on the figures as they stand.
  await clock.advanceAsync(1_000)
  accepted('acct-1')
  await clock.advanceAsync(10)
  expect(submits.map((submit) => submit.accountId)).toEqual(['acct-1', 'acct-2', 'acct-1'])
  expect(errors).toEqual([
    'auto-stop order_rate: the kill switch of account acct-1 was not applied',
    'auto-stop order_rate: the kill switch of account acct-2 was not applied',
    'auto-stop order_rate: the kill switch of account acct-1 was not applied',
  ])
  autoStop.stop()
})
