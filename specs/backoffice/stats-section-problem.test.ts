/**
 * `GET /v1/stats` says why the back office refused its snapshot section (`section_problem`), and a refused order's
 * state names the order: `STATE_INVALID: order <id>: …`. Every reader got the text, a trader scoped to one account the
 * id of another account's order too. The full text is an every-account reader's (ops, auditor, admin); others get its
 * code alone.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BACKOFFICE_SECTION, backOfficeOf, decodeSection, encodeSection } from '../../src/backoffice/index.ts'
import { decodeSnapshot, encodeSnapshot } from '../../src/runtime/snapshot/index.ts'
import { auth, eventually, json, post, startTestGateway, type TestGateway } from '../http/fixture.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'egress-section-problem-'))
const config = { dataDir, wal: { durability: 'none' } }
let t: TestGateway
let orderId = ''

/** Breaks the back-office section of the newest snapshot: the order's covered fills are no list. */
function breakSectionOrder(id: string): void {
  const snapshots = join(dataDir, 'snapshots')
  const file = join(snapshots, readdirSync(snapshots).filter((name) => name.endsWith('.snap')).sort().at(-1) as string)
  const content = decodeSnapshot(new Uint8Array(readFileSync(file)))
  const section = decodeSection(content.sections.get(BACKOFFICE_SECTION) as Uint8Array)
  const order = section.ledger.orders.get(id)
  if (order === undefined) throw new Error(`the section holds no order ${id}`)
  order.coveredFills = 'x' as never
  const sections = new Map(content.sections)
  sections.set(BACKOFFICE_SECTION, encodeSection({ ...section.header, ledger: section.ledger, breaks: section.breaks, image: section.image }))
  const { format: _format, version: _version, sections: _infos, ...meta } = content.header
  writeFileSync(file, encodeSnapshot(meta, sections).bytes)
}

beforeAll(async () => {
  t = await startTestGateway({ config })
  const other = await t.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
  const placed = await t.request('/v1/orders', post(other, { account: 'demo-2', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '61000' }, { 'Idempotency-Key': 'section-problem-1' }))
  expect(placed.status).toBe(202)
  orderId = ((await json(placed)) as { order_id: string }).order_id
  await eventually(() => backOfficeOf(t.gateway).projector.ledger.counters.fills >= 1)
  await t.stop()
  breakSectionOrder(orderId)
  t = await startTestGateway({ config })
  expect(backOfficeOf(t.gateway).stats().sectionProblem).toStartWith(`STATE_INVALID: order ${orderId}: `)
})

afterAll(async () => {
  await t.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

async function sectionProblemFor(token: string): Promise<unknown> {
  const response = await t.request('/v1/stats', { headers: auth(token) })
  expect(response.status).toBe(200)
  return ((await json(response)) as { section_problem: unknown }).section_problem
}

test("a trader scoped to one account gets the refused section's code alone: no order id, of its account or another's", async () => {
  for (const accounts of [['demo-1'], ['demo-2']]) {
    const trader = await t.token({ sub: 'alice', roles: ['trader'], accounts })
    const problem = await sectionProblemFor(trader)
    expect(problem).toBe('STATE_INVALID')
    expect(JSON.stringify(problem)).not.toContain(orderId)
  }
})

test('an ops, auditor or admin token gets the full text, naming the order', async () => {
  for (const role of ['ops', 'auditor', 'admin'] as const) {
    const reader = await t.token({ sub: `reader-${role}`, roles: [role], accounts: [] })
    expect(await sectionProblemFor(reader)).toStartWith(`STATE_INVALID: order ${orderId}: coveredFills is not a list`)
  }
})
