import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { backOfficeOf, breakAccountOf, type ReconcileCheck } from '../../src/backoffice/index.ts'
import { DETAIL_NOT_SHOWN } from '../../src/http/routes/backoffice.ts'
import { auth, eventually, json, post, startTestGateway, type TestGateway } from '../http/fixture.ts'

// /v1/reconcile showed a scoped reader the breaks whose key contained `:<account>:` or ended in `:<account>`: an
// account named like an asset ("USD") saw every account's USD breaks and the ledger-wide `ledger_balanced:USD`, and
// the owner of an order never saw the breaks keyed by its order id (venue_open_orders, venue_trades per order). Nor,
// until venue checks recorded the account they ran for (break_opened v2), a venue_trades break keyed by an exec id.

let gw: TestGateway
let alice: string
let mallory: string
let auditor: string
/** A trader of an account with no breaks, no orders, no fills. */
let bystander: string
let orderId: string

beforeAll(async () => {
  gw = await startTestGateway({
    config: {
      accounts: [
        { id: 'demo-1', balances: { USD: '1000000', BTC: '10' } },
        { id: 'USD', balances: { USD: '1000' } },
      ],
    },
  })
  alice = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  mallory = await gw.token({ sub: 'mallory', roles: ['bot'], accounts: ['USD'] })
  auditor = await gw.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  bystander = await gw.token({ sub: 'bea', roles: ['trader'], accounts: ['quiet-1'] })
  const body = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }
  const response = await gw.request('/v1/orders', post(alice, body, { 'Idempotency-Key': 'scope-1' }))
  expect(response.status).toBe(202)
  orderId = (await json(response)).order_id as string
  await eventually(() => backOfficeOf(gw.gateway).projector.ledger.orders.has(orderId))
  const breaks = backOfficeOf(gw.gateway).projector.breaks
  const open = (check: ReconcileCheck, key: string, accountId?: string): void =>
    breaks.apply({ kind: 'break_opened', value: { key, check, what: key, expected: '1', actual: '2', firstSeenMs: 1, asOfLsn: 1, runId: 'spec', ...(accountId === undefined ? {} : { accountId }) } }, breaks.lastLsn + 1)
  open('venue_balances', 'venue_balances:sim:demo-1:USD')
  open('ledger_balanced', 'ledger_balanced:USD')
  open('ledger_vs_store', 'ledger_vs_store:position:demo-1:sim:BTC-USD:net_qty')
  open('ledger_vs_store', 'ledger_vs_store:book:acct:USD:BTC')
  open('ledger_vs_kernel', 'ledger_vs_kernel:reserved:USD:BTC')
  open('venue_open_orders', `venue_open_orders:sim:${orderId}`)
  open('venue_open_orders', `venue_open_orders:sim:${orderId}:cum_qty`)
  open('venue_open_orders', 'venue_open_orders:sim:someone-elses-client-id')
  open('venue_trades', `venue_trades:sim:order:${orderId}`)
  open('venue_trades', 'venue_trades:sim:exec-USD')
  // A venue trade of demo-1's, by its exec id: the trades check ran for demo-1 and recorded it.
  open('venue_trades', 'venue_trades:sim:exec-demo-1', 'demo-1')
})

afterAll(async () => {
  await gw.stop()
})

async function visibleKeys(token: string): Promise<{ keys: string[]; count: unknown; ok: unknown }> {
  const body = await json(await gw.request('/v1/reconcile', { headers: auth(token) }))
  return { keys: (body.open_breaks as { key: string }[]).map((item) => item.key).sort(), count: body.open_break_count, ok: body.ok }
}

describe('reconcile breaks by account', () => {
  test('the owner of an account sees its breaks, those keyed by its order ids included, and no one else’s', async () => {
    const { keys, count } = await visibleKeys(alice)
    expect(keys).toEqual(
      [
        'venue_balances:sim:demo-1:USD',
        'ledger_vs_store:position:demo-1:sim:BTC-USD:net_qty',
        `venue_open_orders:sim:${orderId}`,
        `venue_open_orders:sim:${orderId}:cum_qty`,
        `venue_trades:sim:order:${orderId}`,
        'venue_trades:sim:exec-demo-1',
      ].sort(),
    )
    expect(count).toBe(6)
  })

  test('an account named like an asset sees only its own breaks, not every account’s in that asset nor ledger-wide ones', async () => {
    const { keys, count } = await visibleKeys(mallory)
    expect(keys).toEqual(['ledger_vs_kernel:reserved:USD:BTC', 'ledger_vs_store:book:acct:USD:BTC'])
    expect(count).toBe(2)
  })

  test('an auditor sees every break, those with no account included', async () => {
    const { keys, count, ok } = await visibleKeys(auditor)
    expect(keys.length).toBe(11)
    expect(count).toBe(11)
    expect(ok).toBe(false)
  })

  test('a skipped venue check names the account that did not answer only to a reader of that account; a failed run’s message only to every-account readers', async () => {
    const office = backOfficeOf(gw.gateway)
    const breaks = office.projector.breaks
    const skipped = [
      { check: 'venue_balances' as const, detail: 'sim/demo-1: balances: unknown (timeout)' },
      { check: 'venue_trades' as const, detail: 'sim/USD: trades: unknown' },
      { check: 'ledger_vs_replay' as const, detail: 'the log starts at LSN 9 (compacted) and no snapshot section below it is at hand' },
    ]
    const reconciled = { runId: 'spec-run', atMs: 2, asOfLsn: 2, checks: ['ledger_vs_kernel' as const], skipped, breaksSeen: 0, opened: 0, cleared: 0 }
    breaks.apply({ kind: 'reconciled', value: reconciled }, breaks.lastLsn + 1)
    office.lastError = { atMs: 3, message: 'sim/USD: adapter threw' }
    try {
      const read = async (token: string): Promise<{ skipped: unknown; error: unknown }> => {
        const body = await json(await gw.request('/v1/reconcile', { headers: auth(token) }))
        return { skipped: (body.last_run as { skipped: unknown }).skipped, error: body.last_error }
      }
      expect(await read(alice)).toEqual({
        skipped: [skipped[0], { check: 'venue_trades', detail: DETAIL_NOT_SHOWN }, skipped[2]],
        error: { atMs: 3, message: DETAIL_NOT_SHOWN },
      })
      expect((await read(mallory)).skipped).toEqual([{ check: 'venue_balances', detail: DETAIL_NOT_SHOWN }, skipped[1], skipped[2]])
      expect(await read(auditor)).toEqual({ skipped, error: { atMs: 3, message: 'sim/USD: adapter threw' } })
    } finally {
      office.lastError = null
    }
  })

  test('a trader of an account with no break is told no break is open, and not how many other accounts’ runs found, opened or cleared', async () => {
    // /v1/reconcile answered ok: false (some account had a break) and the last run's counts over every account, and
    // /v1/stats every account's open breaks and ledger counters, to a trader whose accounts had none of them.
    const breaks = backOfficeOf(gw.gateway).projector.breaks
    const counted = { runId: 'spec-counts', atMs: 4, asOfLsn: 4, checks: ['ledger_vs_kernel' as const], skipped: [], breaksSeen: 7, opened: 3, cleared: 2 }
    breaks.apply({ kind: 'reconciled', value: counted }, breaks.lastLsn + 1)
    const mine = await json(await gw.request('/v1/reconcile', { headers: auth(bystander) }))
    expect(mine).toMatchObject({ ok: true, open_breaks: [], open_break_count: 0 })
    expect(mine.last_run).toMatchObject({ run_id: 'spec-counts', breaks_seen: null, opened: null, cleared: null })
    const every = await json(await gw.request('/v1/reconcile', { headers: auth(auditor) }))
    expect(every.last_run).toMatchObject({ breaks_seen: 7, opened: 3, cleared: 2 })
    const stats = await json(await gw.request('/v1/stats', { headers: auth(bystander) }))
    expect(stats).toMatchObject({ open_breaks: 0, ledger: null, store: null, pending_rows: null, batches_written: null })
    expect((await json(await gw.request('/v1/stats', { headers: auth(alice) }))).open_breaks).toBe(6)
    const all = await json(await gw.request('/v1/stats', { headers: auth(auditor) }))
    expect(all.open_breaks).toBe(11)
    expect((all.ledger as { orders: number }).orders).toBeGreaterThanOrEqual(1)
    expect(typeof all.pending_rows).toBe('number')
  })

  test('the account is read from the key’s structure, a ":" inside an account id included', () => {
    const none = (): undefined => undefined
    expect(breakAccountOf({ check: 'venue_balances', key: 'venue_balances:sim:a:b:USD' }, none)).toBe('a:b')
    expect(breakAccountOf({ check: 'ledger_vs_replay', key: 'ledger_vs_replay:position:a:b:sim:BTC-USD:fees_USD' }, none)).toBe('a:b')
    expect(breakAccountOf({ check: 'ledger_vs_replay', key: 'ledger_vs_replay:book:venue:sim:USD' }, none)).toBeNull()
    expect(breakAccountOf({ check: 'ledger_vs_store', key: 'ledger_vs_store:book:fees:sim:USD' }, none)).toBeNull()
    // A key whose check does not match its first segment is not trusted.
    expect(breakAccountOf({ check: 'venue_balances', key: 'ledger_vs_kernel:balance:x:USD' }, none)).toBeNull()
    // An order the back office no longer knows: no account, so only every-account readers see it.
    expect(breakAccountOf({ check: 'venue_trades', key: 'venue_trades:sim:order:gone' }, none)).toBeNull()
  })
})
