/**
 * The adapter ordering contract (src/venues/adapter.ts): calls for one venue×symbol reach the venue in the order they
 * were issued. The sim venue's order entry travels one ordered link, so this holds with a fixed latency and with a
 * latency range (each call draws its own delay, but never arrives before the call made before it).
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { harness, limit } from './fixture.ts'

async function arrivalOrder(latency: { latencyMsMin: number; latencyMsMax: number }): Promise<{ issued: string[]; arrived: string[] }> {
  const { clock, venue } = harness(latency)
  const issued: string[] = []
  const answers: Promise<unknown>[] = []
  for (let index = 0; index < 40; index++) {
    const request = limit({ clientOrderId: `ord-${index}`, price: d(String(40_000 + index)) })
    issued.push(request.clientOrderId)
    answers.push(venue.place(request))
  }
  await clock.advanceAsync(1_000)
  await Promise.all(answers)
  return { issued, arrived: venue.inspect().orders.map((order) => order.clientOrderIds[0] as string) }
}

describe('sim venue: order of arrival per symbol', () => {
  test('with a fixed latency, places reach the book in the order they were issued', async () => {
    const { issued, arrived } = await arrivalOrder({ latencyMsMin: 7, latencyMsMax: 7 })
    expect(arrived).toEqual(issued)
  })

  test('with a latency range (the default 1..5 ms), places still reach the book in the order they were issued', async () => {
    const { issued, arrived } = await arrivalOrder({ latencyMsMin: 1, latencyMsMax: 5 })
    expect(arrived).toEqual(issued)
  })
})
