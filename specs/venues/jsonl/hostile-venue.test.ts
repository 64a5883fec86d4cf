/**
 * A broken or hostile JSONL venue: a flood of invalid lines is logged at a bounded rate with every refusal counted
 * (input-log.ts), an open-order page repeating an order is refused, and an exec id with a lone surrogate is refused
 * instead of collapsing onto another id as U+FFFD.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { venueIdProblem } from '../../../src/domain/venue-report-schema.ts'
import type { VenueOrder } from '../../../src/venues/adapter.ts'
import { encodeLine } from '../../../src/venues/jsonl/index.ts'
import { INPUT_LOG_LINES_MAX, INPUT_LOG_SUPPRESSED_CODE, InputLog } from '../../../src/venues/jsonl/input-log.ts'
import { OPEN_ORDERS_PAGE_MAX } from '../../../src/venues/jsonl/codec.ts'
import { JsonlLogCode, JsonlReason } from '../../../src/venues/jsonl/reasons.ts'
import { ORDER, connect, report, requestId, startFakeVenue, stopFakeVenues, until, withCode } from './fake-venue.ts'

afterEach(stopFakeVenues)

/** The count a summary line gives for `code`, summed over every summary line logged. */
function suppressedCount(logged: readonly string[], code: string): number {
  let total = 0
  for (const line of withCode(logged, INPUT_LOG_SUPPRESSED_CODE)) total += Number(new RegExp(`${code} ×(\\d+)`).exec(line)?.[1] ?? 0)
  return total
}

describe('JSONL client: a flood of invalid lines', () => {
  test('10,000 invalid lines give a bounded number of log lines, and the lines logged plus the counts said are all of them', async () => {
    const venue = startFakeVenue()
    const { client, logged, reports } = await connect(venue)
    const notJson = 100
    venue.send(`${'{"hello":1}\n'.repeat(10_000 - notJson)}${'{not json\n'.repeat(notJson)}${encodeLine({ report: report('x-1') })}`)
    await until(() => reports.length === 1, 'the report after the flood')
    client.close()
    expect(logged.length).toBeLessThanOrEqual(INPUT_LOG_LINES_MAX + 1)
    expect(withCode(logged, INPUT_LOG_SUPPRESSED_CODE)).toHaveLength(1)
    expect(withCode(logged, JsonlLogCode.messageInvalid).length + suppressedCount(logged, JsonlLogCode.messageInvalid)).toBe(10_000 - notJson)
    expect(withCode(logged, JsonlLogCode.lineMalformed).length + suppressedCount(logged, JsonlLogCode.lineMalformed)).toBe(notJson)
  })

  test('past its window the summary is written, and the next window logs in full again', () => {
    const logged: string[] = []
    let nowMs = 0
    const log = new InputLog({ log: (line) => void logged.push(line), windowMs: 1_000, linesMax: 2, nowMs: () => nowMs })
    for (let index = 0; index < 5; index++) log.line(JsonlLogCode.messageInvalid, `${JsonlLogCode.messageInvalid}: ${index}`)
    log.line(JsonlLogCode.lineMalformed, `${JsonlLogCode.lineMalformed}: 9 lines`, 9)
    expect(logged).toEqual([`${JsonlLogCode.messageInvalid}: 0`, `${JsonlLogCode.messageInvalid}: 1`])
    nowMs = 1_000
    log.line(JsonlLogCode.messageInvalid, `${JsonlLogCode.messageInvalid}: 5`)
    expect(logged.slice(2)).toEqual([
      `${INPUT_LOG_SUPPRESSED_CODE}: refusals of venue input not logged in full (past 2 lines in 1000 ms): ${JsonlLogCode.messageInvalid} ×3, ${JsonlLogCode.lineMalformed} ×9`,
      `${JsonlLogCode.messageInvalid}: 5`,
    ])
    log.flush()
    expect(logged).toHaveLength(4)
  })
})

describe('JSONL client: open-order pages', () => {
  const order = (clientOrderId: string, account = 'acct-a'): VenueOrder => ({ ...ORDER, clientOrderId, account })

  test('an order listed twice in one page, or again in the next page, makes the listing unknown', async () => {
    const venue = startFakeVenue()
    const { client, logged } = await connect(venue)
    const twiceInPage = client.openOrders()
    venue.send(encodeLine({ id: await requestId(venue, 1), result: { kind: 'ok', value: [order('c-1'), order('c-2'), order('c-2')] } }))
    const first = await twiceInPage
    expect(first.kind === 'unknown' && first.reason).toStartWith(`${JsonlReason.answerInvalid}: openOrders: 2: client order id "c-2" of account "acct-a" listed twice`)

    // A full first page ends at c-0999; the second repeats c-0500 before ids after c-0999.
    const full = Array.from({ length: OPEN_ORDERS_PAGE_MAX }, (_, index) => order(`c-${String(index).padStart(4, '0')}`))
    const acrossPages = client.openOrders()
    venue.send(encodeLine({ id: await requestId(venue, 2), result: { kind: 'ok', value: full } }))
    venue.send(encodeLine({ id: await requestId(venue, 3), result: { kind: 'ok', value: [order('c-0500'), order('c-1000')] } }))
    const second = await acrossPages
    expect(second.kind === 'unknown' && second.reason).toStartWith(`${JsonlReason.answerInvalid}: openOrders: 0: client order id "c-0500" not after "c-0999"`)
    expect(withCode(logged, JsonlLogCode.messageInvalid)).toHaveLength(2)
  })

  test('a page going back in client id order is refused; one id under two accounts is listed as given', async () => {
    const venue = startFakeVenue()
    const { client } = await connect(venue)
    const backwards = client.openOrders()
    venue.send(encodeLine({ id: await requestId(venue, 1), result: { kind: 'ok', value: [order('c-1'), order('c-3'), order('c-2')] } }))
    expect((await backwards).kind).toBe('unknown')
    const twoAccounts = [order('c-1', 'acct-a'), order('c-1', 'acct-b'), order('c-2')]
    const listed = client.openOrders()
    venue.send(encodeLine({ id: await requestId(venue, 2), result: { kind: 'ok', value: twoAccounts } }))
    expect(await listed).toEqual({ kind: 'ok', value: twoAccounts })
  })
})

describe('JSONL client: ids that are not well-formed Unicode', () => {
  test('a report whose exec id holds a lone surrogate is refused and logged as valid JSON-escaped text; the next report is delivered', async () => {
    const venue = startFakeVenue()
    const { logged, reports } = await connect(venue)
    // JSON.stringify writes a lone surrogate as the escape \ud800, as a venue's JSON would carry it.
    venue.send(`${encodeLine({ report: report('x-\uD800') })}${encodeLine({ report: report('x-\uD801') })}${encodeLine({ report: report('x-2') })}`)
    await until(() => reports.length === 1, 'the well-formed report')
    expect(reports.map((delivered) => delivered.execId)).toEqual(['x-2'])
    const refused = withCode(logged, JsonlLogCode.messageInvalid)
    expect(refused).toHaveLength(2)
    expect(refused[0]).toContain('report.execId: expected well-formed Unicode')
    for (const line of refused) expect(line.isWellFormed()).toBe(true)
  })

  test('the read-back check of a venue trade or order refuses such an id too, empty-allowed ids included', () => {
    expect(venueIdProblem('x-\uD800')).toStartWith('expected well-formed Unicode')
    expect(venueIdProblem('\uDC00', true)).toStartWith('expected well-formed Unicode')
    expect(venueIdProblem('x-\uD83D\uDE00')).toBeNull() // a surrogate pair is one character, well-formed
  })
})
