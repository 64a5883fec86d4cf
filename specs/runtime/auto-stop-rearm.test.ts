/**
 * A RESUME re-arms the breakers with their windows started again (src/runtime/auto-stop.ts): nothing from before it
 * trips them — nor an answer that comes after it to a call made before it (a cancel, a flatten's close, in flight at
 * the venue the breaker stopped trading on). Counted, the slow call or the reject the operator resumed over tripped
 * the breaker again on the first fresh call.
 */

import { expect, test } from 'bun:test'
import type { AutoStopConfig } from '../../src/config/index.ts'
import { initialState } from '../../src/kernel/index.ts'
import { AutoStop } from '../../src/runtime/auto-stop.ts'
import type { AppliedEvent, DurableListener, Engine } from '../../src/runtime/engine.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { T0 } from './harness.ts'

/** An engine whose kill switch applies at once and whose durable listener the spec calls, with the switch's records. */
function fakeEngine(clock: SimClock): { engine: Engine; notes: string[]; resume: () => void } {
  const state = initialState()
  let listener: DurableListener = () => {}
  const notes: string[] = []
  const switched = (to: 'halted' | 'normal'): AppliedEvent[] => [{ lsn: 0, event: { type: 'switch.changed', atMs: clock.nowMs(), action: to === 'normal' ? 'RESUME' : 'HALT', switch: to, principalId: 'x', note: '' } }] as unknown as AppliedEvent[]
  const engine = {
    state,
    // The log's queue bound: the switch is decided in parts sized to it (src/runtime/decision-parts.ts).
    wal: { options: { queueRecordsMax: 65_536 } },
    onDurable: (next: DurableListener) => {
      listener = next
      return () => {}
    },
    submit: (command: { note: string }) => {
      notes.push(command.note)
      state.tradingSwitch = 'halted'
      listener(switched('halted'))
      return Promise.resolve({ decision: { events: [{}], reply: { kind: 'done' } }, lsns: [1] })
    },
  } as unknown as Engine
  const resume = (): void => {
    state.tradingSwitch = 'normal'
    listener(switched('normal'))
  }
  return { engine, notes, resume }
}

test.each<[string, AutoStopConfig, 'ok' | 'rejected', number, 'place_result' | 'cancel_result']>([
  ['ack_latency: a cancel made before the RESUME and answered slowly after it', { evaluateEveryMs: 1_000, ackLatency: { windowMs: 60_000, samplesMin: 2, p99MsMax: 100, action: 'HALT' } }, 'ok', 5_000, 'cancel_result'],
  ['venue_rejects: a place (a flatten\'s close) made before the RESUME and rejected after it', { evaluateEveryMs: 1_000, venueRejects: { windowMs: 60_000, samplesMin: 2, rejectPctMax: 0, action: 'HALT' } }, 'rejected', 10, 'place_result'],
])('%s does not trip the re-armed breaker', async (_label, config, answer, latencyMs, inFlightCall) => {
  const clock = new SimClock({ startMs: T0 })
  const { engine, notes, resume } = fakeEngine(clock)
  const errors: unknown[] = []
  const autoStop = new AutoStop({ engine, clock, config, answeredLocally: () => false, onError: (error) => void errors.push(error) })
  autoStop.start()
  const outcome = answer === 'ok' ? ({ kind: 'ok', value: null } as const) : ({ kind: 'rejected', reason: 'insufficient_funds' } as const)
  // Two bad answers trip the breaker.
  for (let index = 0; index < 2; index++) {
    await clock.advanceAsync(latencyMs)
    autoStop.observeCall('sim', outcome, clock.nowMs() - latencyMs, 'place_result')
  }
  expect(notes.length).toBe(1)
  // A call is made under the switch; the operator resumes while it is in flight; it is answered, and so is a fresh one.
  const inFlightSentAtMs = clock.nowMs()
  await clock.advanceAsync(1_000)
  resume()
  expect(autoStop.armed).toBe(true)
  await clock.advanceAsync(latencyMs)
  autoStop.observeCall('sim', outcome, inFlightSentAtMs, inFlightCall)
  autoStop.observeCall('sim', { kind: 'ok', value: null }, clock.nowMs() - 10, 'place_result')
  expect(notes.length).toBe(1)
  expect(autoStop.armed).toBe(true)
  // Fresh bad answers still trip it.
  autoStop.observeCall('sim', outcome, clock.nowMs() - latencyMs, 'place_result')
  autoStop.observeCall('sim', outcome, clock.nowMs() - latencyMs, 'place_result')
  expect(notes.length).toBe(2)
  expect(errors).toEqual([])
  autoStop.stop()
})
