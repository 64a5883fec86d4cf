/**
 * A trip the engine refuses (its log's queue full: nothing applied) is not retried in a loop (src/runtime/auto-stop.ts):
 * the answers that keep coming meanwhile submit nothing, and the breaker may trip again only from the next evaluation
 * on (evaluateEveryMs later). Each refusal is told to onError.
 */

import { expect, test } from 'bun:test'
import { initialState } from '../../src/kernel/index.ts'
import { AutoStop } from '../../src/runtime/auto-stop.ts'
import type { Engine } from '../../src/runtime/engine.ts'
import { EngineOverloadedError } from '../../src/runtime/engine-types.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { T0 } from './harness.ts'

test('a refused trip waits for the next evaluation, whatever comes meanwhile', async () => {
  const clock = new SimClock({ startMs: T0 })
  const submits: number[] = []
  const engine = {
    state: initialState(),
    // The log's queue bound: the switch is decided in parts sized to it (src/runtime/decision-parts.ts).
    wal: { options: { queueRecordsMax: 65_536 } },
    onDurable: () => () => {},
    submit: () => {
      submits.push(clock.nowMs())
      return Promise.reject(new EngineOverloadedError('log queue full; retry later'))
    },
  } as unknown as Engine
  const errors: string[] = []
  const autoStop = new AutoStop({
    engine,
    clock,
    config: { evaluateEveryMs: 1_000, venueRejects: { windowMs: 60_000, samplesMin: 1, rejectPctMax: 0, action: 'HALT' } },
    answeredLocally: () => false,
    onError: (_error, context) => void errors.push(context),
  })
  autoStop.start()
  const reject = (): void => autoStop.observeCall('sim', { kind: 'rejected', reason: 'insufficient_funds' }, clock.nowMs(), 'place_result')
  for (let index = 0; index < 50; index++) {
    reject()
    await clock.advanceAsync(10)
  }
  expect(submits).toEqual([T0])
  await clock.advanceAsync(1_000)
  reject()
  await clock.advanceAsync(10)
  expect(submits).toEqual([T0, T0 + 1_500])
  expect(errors).toEqual(['auto-stop venue_rejects: the kill switch was not applied', 'auto-stop venue_rejects: the kill switch was not applied'])
  autoStop.stop()
})
