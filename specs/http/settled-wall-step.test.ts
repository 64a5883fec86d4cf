/**
 * The shutdown grace (HttpService.settled, serve-ha.ts): the requests in flight get `graceMs` of real time to be
 * answered, whatever the wall clock does meanwhile (an NTP step, an operator, a VM resumed).
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { startTestGateway, type TestGateway } from './fixture.ts'

const realDateNow = Date.now
let gateway: TestGateway | null = null
afterEach(async () => {
  Date.now = realDateNow
  await gateway?.stop()
  gateway = null
})

/** settled(graceMs) with one request in flight all along, the wall clock stepped by `stepMs` 20 ms in; its real time. */
async function settledWithStep(t: TestGateway, graceMs: number, stepMs: number): Promise<number> {
  t.http.services.requests.inFlight++
  try {
    const startedMs = performance.now()
    setTimeout(() => {
      Date.now = () => realDateNow() + stepMs
    }, 20)
    const timedOut = Bun.sleep(graceMs + 2_000).then(() => 'still waiting' as const)
    expect(await Promise.race([t.http.settled(graceMs).then(() => 'settled' as const), timedOut])).toBe('settled')
    return performance.now() - startedMs
  } finally {
    t.http.services.requests.inFlight--
  }
}

describe('the shutdown grace and a wall clock stepped', () => {
  test('forward: the requests in flight still get their whole grace', async () => {
    gateway = await startTestGateway()
    expect(await settledWithStep(gateway, 300, 3_600_000)).toBeGreaterThanOrEqual(290)
  })

  test('back: the grace still ends once it has passed in real time', async () => {
    gateway = await startTestGateway()
    expect(await settledWithStep(gateway, 300, -3_600_000)).toBeLessThan(1_500)
  })
})
