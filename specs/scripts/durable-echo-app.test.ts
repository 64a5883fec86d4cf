/**
 * bench:http's floor (scripts/support/durable-echo-app.ts): the 202 comes once the first append is durable, and the
 * rest of the order's records follow it into the log in the appends and payload sizes asked for, none of them lost or
 * doubled. (That the default sizes are egress's own: durable-echo-fidelity.test.ts.)
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { durableEchoApp, EGRESS_IOC_RECORDS, floorRecordsFrom } from '../../scripts/support/durable-echo-app.ts'
import { Wal } from '../../wal/index.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function openWal(): Wal {
  const dir = mkdtempSync(join(tmpdir(), 'egress-durable-echo-'))
  dirs.push(dir)
  return Wal.open(dir, { durability: 'fsync' })
}

const post = (app: ReturnType<typeof durableEchoApp>, body: object): Response | Promise<Response> =>
  app.request('/v1/orders', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })

async function settled(wal: Wal, lastLsn: number): Promise<void> {
  for (let attempt = 0; attempt < 200 && wal.lastLsn < lastLsn; attempt++) await Bun.sleep(5)
}

describe('durable echo', () => {
  test('answers 202 once the first append is durable; the rest of the order follows in sequence', async () => {
    const wal = openWal()
    const app = durableEchoApp({ wal, records: [[40], [40, 40], [40, 40, 40]] })
    const response = await post(app, { account: 'demo-1', qty: '1' })
    expect(response.status).toBe(202)
    const answer = (await response.json()) as { lsn: number; account: string }
    expect(answer.account).toBe('demo-1')
    expect(wal.lastLsn).toBeGreaterThanOrEqual(answer.lsn)
    await settled(wal, 6)
    const payloads: string[] = []
    for (const frame of wal.read(1)) payloads.push(new TextDecoder().decode(frame.payload)) // a view, valid until the next
    expect(payloads).toEqual(Array(6).fill(JSON.stringify({ account: 'demo-1', qty: '1' }).padEnd(40, ' ')))
    await wal.close()
  })

  test("egress's records for an IOC order by default: 7 in 5 appends, of its payload sizes, each order's complete", async () => {
    const wal = openWal()
    const app = durableEchoApp({ wal })
    expect(EGRESS_IOC_RECORDS.map((append) => append.length)).toEqual([1, 1, 2, 2, 1])
    const responses = await Promise.all(Array.from({ length: 5 }, (_, index) => post(app, { account: `a-${index}` })))
    expect(responses.map((response) => response.status)).toEqual(Array(5).fill(202))
    await settled(wal, 35)
    // Each body (17 bytes) fits the smallest payload, so every record names its order's account.
    const sizes = new Map<string, number[]>()
    for (const frame of wal.read(1)) {
      const account = (JSON.parse(new TextDecoder().decode(frame.payload)) as { account: string }).account
      sizes.set(account, [...(sizes.get(account) ?? []), frame.payload.byteLength])
    }
    expect([...sizes.values()]).toEqual(Array(5).fill(EGRESS_IOC_RECORDS.flat()))
    await wal.close()
  })

  test('no appends, an empty append or a payload size that is not a positive integer is refused', () => {
    const wal = openWal()
    expect(() => durableEchoApp({ wal, records: [] })).toThrow(RangeError)
    expect(() => durableEchoApp({ wal, records: [[10], []] })).toThrow('positive payload sizes')
    expect(() => durableEchoApp({ wal, records: [[10, 0]] })).toThrow(RangeError)
    expect(() => durableEchoApp({ wal, records: [[1.5]] })).toThrow(RangeError)
    void wal.close()
  })

  test('BENCH_FLOOR_RECORDS: appends of payload sizes as JSON, egress\'s when unset, anything else refused by name', () => {
    expect(floorRecordsFrom(undefined)).toBe(EGRESS_IOC_RECORDS)
    expect(floorRecordsFrom('')).toBe(EGRESS_IOC_RECORDS)
    expect(floorRecordsFrom('[[400],[100,36]]')).toEqual([[400], [100, 36]])
    for (const bad of ['[[400]', '[]', '[[]]', '[[0]]', '[[1.5]]', '[["400"]]', '[400]', '{"a":1}']) expect(() => floorRecordsFrom(bad)).toThrow('BENCH_FLOOR_RECORDS')
  })
})
