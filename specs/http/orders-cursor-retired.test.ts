/**
 * GET /v1/orders followed by next_cursor while orders retire (src/kernel/retention.ts deletes ended orders from the
 * kernel's Map, and the order list index with them). The cursor was the id of the last order a page read, found in
 * the index: once that order retired, the next page answered 400 VALIDATION_FAILED "no such position", and a client
 * paging from the oldest orders while they retired had to start again, and again.
 *
 * - A walk in pages visits every order held throughout the walk that the reader sees, exactly once, in acceptance
 *   order, while the order its cursor names retires before each next page, and others behind and ahead of it too;
 *   for a reader of every account, an account filter, a trader of one account and one of two (a merge of two lists).
 * - A cursor never tells of an order the reader may not read: one handed to a reader of another account answers like
 *   an unknown one, before and after its order retired; made-up and malformed cursors answer 400 on the cursor path.
 * - An order id as the cursor (what clients held before) still pages on while its order is held.
 * - After a restart (a new process, a new index): a cursor whose order is still held pages on exactly; one whose order
 *   retired meanwhile answers 410 CURSOR_NOT_RETAINED (the position cannot be found again; see
 *   src/http/order-list/cursor.ts); a made-up one still answers 400.
 *
 * Retirement is driven as the kernel does it, on a simulated clock: an order is canceled, and the next order event
 * after its end retires it (terminalOrdersKeptMax 1, no grace).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import { createVerifier, mintHs256Token, type Role, type Verifier } from '../../src/http/auth/index.ts'
import { createHttpService, type HttpService } from '../../src/http/index.ts'
import { crashWorld, removeDir, run, startWorld, traderA, traderB, type World } from '../runtime/harness.ts'

const SECRET = 'cursor-retired-spec-secret-cursor-retired-spec'
const PARAMS = { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 }
const CURSOR_SECRET = 'cursor-retired-spec-cursor-secret'

interface Served {
  http: HttpService
  verifier: Verifier
}

interface Page {
  status: number
  ids: string[]
  next: string | null
  body: string
}

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

function serve(world: World): Served {
  const config = parseConfig({ dataDir: world.dir, auth: { hs256Secret: SECRET } })
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 100 })
  // The cursor secret serve keeps in the data dir (auth/cursor.secret): the same for every process on this log.
  const http = createHttpService({ gateway: world.gateway, verifier, configDigest: 'sim-config', backpressure: config.backpressure, sse: config.sse, cursorSecret: CURSOR_SECRET, log: () => {} })
  return { http, verifier }
}

function unserve(served: Served): void {
  served.http.close()
  served.verifier.close()
}

async function token(sub: string, roles: Role[], accounts: string[]): Promise<string> {
  return mintHs256Token(SECRET, { sub, roles, accounts, issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
}

async function page(served: Served, bearer: string, query: string, cursor: string | null): Promise<Page> {
  const path = `/v1/orders?${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
  const response = await served.http.app.request(path, { headers: { authorization: `Bearer ${bearer}` } })
  const body = await response.text()
  if (response.status !== 200) return { status: response.status, ids: [], next: null, body }
  const parsed = JSON.parse(body) as { orders: { order_id: string }[]; next_cursor: string | null }
  return { status: 200, ids: parsed.orders.map((order) => order.order_id), next: parsed.next_cursor, body }
}

const principalOf = (account: string): Principal => (account === 'acct-a' ? traderA : traderB)

/** Every order the spec placed, in acceptance order; the resting ones (the IOC nudges end at once). */
const accepted: { orderId: string; account: string }[] = []
const resting = new Set<string>()
let placedCount = 0

/** A buy below the market: it rests (held until canceled). */
async function placeResting(world: World, account: string): Promise<string> {
  const body = { account, symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price: '2900', client_order_id: `rest-${placedCount++}` }
  const result = await world.gateway.place(principalOf(account), body, null)
  if (result.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result.reply)}`)
  accepted.push({ orderId: result.reply.orderId, account })
  resting.add(result.reply.orderId)
  return result.reply.orderId
}

/**
 * Cancels `orderIds` and has the kernel retire them: an ended order is retired by an order event after its end, here
 * a later IOC order's that ends at once (and stays the one ended order kept, until the next round retires it).
 */
async function retire(world: World, orderIds: readonly string[]): Promise<void> {
  const orders = world.gateway.engine.state.orders
  for (const orderId of orderIds) {
    const order = orders.get(orderId)
    if (order === undefined) throw new Error(`order ${orderId} is not held`)
    await world.gateway.cancel(principalOf(order.accountId), orderId)
  }
  for (let round = 0; round < 10 && orderIds.some((orderId) => orders.has(orderId)); round++) {
    await run(world, 60)
    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', tif: 'IOC', qty: '0.1', price: '2900', client_order_id: `nudge-${placedCount++}` }
    const result = await world.gateway.place(traderA, body, null)
    if (result.reply.kind === 'accepted') accepted.push({ orderId: result.reply.orderId, account: 'acct-a' })
    await run(world, 60)
  }
  for (const orderId of orderIds) expect(orders.has(orderId), `order ${orderId} retired`).toBe(false)
}

describe('a walk while orders retire', () => {
  let world: World
  let served: Served

  beforeAll(async () => {
    world = await startWorld({ seed: 29, params: PARAMS })
    dirs.push(world.dir)
    served = serve(world)
  })
  afterAll(async () => {
    unserve(served)
    await crashWorld(world)
  })

  const readers: { name: string; roles: Role[]; accounts: string[]; query: string; sees: (account: string) => boolean }[] = [
    { name: 'a reader of every account', roles: ['ops'], accounts: [], query: 'limit=4', sees: () => true },
    { name: 'a reader of every account, one account asked for', roles: ['ops'], accounts: [], query: 'account=acct-b&limit=2', sees: (account) => account === 'acct-b' },
    { name: 'a trader of one account', roles: ['trader'], accounts: ['acct-a'], query: 'limit=3', sees: (account) => account === 'acct-a' },
    { name: 'a trader of two accounts (a merge of their lists)', roles: ['trader'], accounts: ['acct-a', 'acct-b'], query: 'limit=3', sees: () => true },
    { name: 'a trader of two accounts, one asked for', roles: ['trader'], accounts: ['acct-b', 'acct-a'], query: 'account=acct-a&limit=2', sees: (account) => account === 'acct-a' },
  ]

  for (const reader of readers) {
    test(`${reader.name}: every order held throughout is visited once, in acceptance order, while the cursor's order retires before each page`, async () => {
      for (const account of ['acct-a', 'acct-b', 'acct-a', 'acct-a', 'acct-b', 'acct-a', 'acct-b', 'acct-b', 'acct-a', 'acct-a', 'acct-b', 'acct-a', 'acct-b', 'acct-a']) {
        await placeResting(world, account)
      }
      await run(world, 100)
      const orders = world.gateway.engine.state.orders
      const accountOf = (orderId: string): string => accepted.find((entry) => entry.orderId === orderId)?.account ?? 'unknown'
      const heldAtStart = [...orders.keys()]
      const bearer = await token('reader', reader.roles, reader.accounts)
      const visited: string[] = []
      const retiredDuringWalk = new Set<string>()
      let cursor: string | null = null
      let pages = 0
      let cursorOrdersRetired = 0
      do {
        const next: Page = await page(served, bearer, reader.query, cursor)
        expect(next.status, next.body).toBe(200)
        visited.push(...next.ids)
        cursor = next.next
        pages++
        if (cursor === null) break
        // No filter but the account: the cursor names the last order returned. Retire it, one visited before it, and
        // the next two held orders after it (one the reader sees, one of another account if there is one).
        const named = next.ids.at(-1) as string
        const held = [...orders.keys()]
        const after = held.slice(held.indexOf(named) + 1).filter((orderId) => resting.has(orderId))
        const aheadSeen = after.find((orderId) => reader.sees(accountOf(orderId)))
        const aheadOther = after.find((orderId) => orderId !== aheadSeen && !reader.sees(accountOf(orderId)))
        const behind = visited.slice(0, -1).reverse().find((orderId) => orders.has(orderId) && resting.has(orderId))
        const retiring = [named, behind, aheadSeen, aheadOther].filter((orderId): orderId is string => orderId !== undefined && resting.has(orderId))
        await retire(world, retiring)
        for (const orderId of retiring) retiredDuringWalk.add(orderId)
        cursorOrdersRetired++
      } while (pages < 100)
      expect(cursor).toBeNull()
      expect(cursorOrdersRetired).toBeGreaterThan(1)

      // Exactly once, in acceptance order, only orders the reader sees.
      expect(new Set(visited).size).toBe(visited.length)
      const order = accepted.map(({ orderId }) => orderId)
      const positions = visited.map((orderId) => order.indexOf(orderId))
      expect(positions.every((position) => position >= 0)).toBe(true)
      expect(positions).toEqual([...positions].sort((left, right) => left - right))
      for (const orderId of visited) expect(reader.sees(accountOf(orderId))).toBe(true)
      // Every order held throughout the walk that the reader sees, none missing.
      const heldThroughout = heldAtStart.filter((orderId) => !retiredDuringWalk.has(orderId) && orders.has(orderId) && reader.sees(accountOf(orderId)))
      expect(visited.filter((orderId) => heldAtStart.includes(orderId) && !retiredDuringWalk.has(orderId))).toEqual(heldThroughout)
      // An order retired before the walk reached it is not listed.
      for (const orderId of retiredDuringWalk) {
        if (!visited.includes(orderId)) expect(heldThroughout).not.toContain(orderId)
      }
    }, 60_000)
  }

  test("a cursor handed to a reader of another account answers like an unknown one, before and after its order retired; made-up ones answer 400", async () => {
    const a = await placeResting(world, 'acct-a')
    await placeResting(world, 'acct-a')
    const b = await placeResting(world, 'acct-b')
    await placeResting(world, 'acct-b')
    await run(world, 100)
    const ops = await token('olga', ['ops'], [])
    const bob = await token('bob', ['trader'], ['acct-b'])
    const alice = await token('alice', ['trader'], ['acct-a'])
    const unknown = await page(served, bob, 'limit=1', '00000000000000000000')
    expect(unknown.status).toBe(400)
    expect(JSON.parse(unknown.body)).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String), details: { issues: [{ path: 'query.cursor', message: 'unknown cursor' }] } } })
    // ops pages up to an acct-a order: bob may not use that cursor.
    let cursor: string | null = null
    for (let pages = 0; pages < 200; pages++) {
      const next: Page = await page(served, ops, 'limit=1', cursor)
      cursor = next.next
      if (next.ids[0] === a) break
    }
    const foreign = cursor as string
    expect((await page(served, ops, 'limit=1', foreign)).ids).not.toContain(a)
    expect((await page(served, bob, 'limit=1', foreign)).body).toBe(unknown.body)
    await retire(world, [a])
    expect((await page(served, bob, 'limit=1', foreign)).body).toBe(unknown.body)
    // Readers of its order's account still page on from it, its order retired: alice gets her next order.
    const after = accepted.slice(accepted.findIndex((entry) => entry.orderId === a) + 1).map((entry) => entry.orderId)
    const heldAfter = after.filter((orderId) => world.gateway.engine.state.orders.has(orderId))
    expect((await page(served, alice, 'limit=1', foreign)).ids).toEqual([heldAfter.find((orderId) => accepted.find((entry) => entry.orderId === orderId)?.account === 'acct-a') as string])
    expect((await page(served, ops, 'limit=1', foreign)).ids).toEqual(heldAfter.slice(0, 1))
    // Made up, for bob: a plain id he may not read (retired, or held), a never-held id, and cursors shaped like the
    // ones handed out: another seal, another order id, another order id under the handed-out seal.
    expect((await page(served, bob, 'limit=1', a)).body).toBe(unknown.body)
    expect((await page(served, alice, 'limit=1', b)).body).toBe(unknown.body)
    const seal = (/^v2\.([A-Za-z0-9_-]{70})\./.exec(foreign) as RegExpExecArray)[1] as string
    const madeUp = [
      foreign.replace(seal, 'A'.repeat(70)),
      foreign.replace(seal, 'A'.repeat(70)).replace(a, '00000000000000000000'),
      foreign.replace(a, b),
      foreign.replace(seal, `${seal.slice(0, 40)}${seal[40] === 'A' ? 'B' : 'A'}${seal.slice(41)}`),
      `v1.${'A'.repeat(22)}.${a}`,
      'v1.x.y',
      'v1',
      foreign.replace(/^v2/, 'v3'),
    ]
    for (const made of madeUp) {
      expect(made).not.toBe(foreign)
      const answer = await page(served, bob, 'limit=1', made)
      expect(`${made}: ${answer.body}`).toBe(`${made}: ${unknown.body}`)
    }
    expect((await page(served, alice, 'limit=1', 'not a cursor')).status).toBe(400)
    // Made up over the reader's own retired order: another seal, a seal altered, the format before (whose seal nothing
    // can check now). Each is 400 like any unknown cursor; only a genuine cursor of the gateway's own is told 410.
    for (const made of [madeUp[0], madeUp[3], madeUp[4]] as string[]) {
      const answer = await page(served, alice, 'limit=1', made)
      expect(`${made}: ${answer.body}`).toBe(`${made}: ${unknown.body}`)
    }
  }, 60_000)

  test('an order id as the cursor (what clients held before) pages on while its order is held', async () => {
    const ids: string[] = []
    for (let index = 0; index < 4; index++) ids.push(await placeResting(world, 'acct-b'))
    await run(world, 100)
    const bob = await token('bob', ['trader'], ['acct-b'])
    const rest = await page(served, bob, 'limit=1000', ids[0] as string)
    expect(rest.status).toBe(200)
    const held = [...world.gateway.engine.state.orders.values()].filter((order) => order.accountId === 'acct-b').map((order) => order.orderId)
    expect(rest.ids).toEqual(held.slice(held.indexOf(ids[0] as string) + 1))
    expect(rest.ids.slice(0, 3)).toEqual(ids.slice(1))
    const two = await page(served, bob, 'limit=2', ids[0] as string)
    expect(two.ids).toEqual(ids.slice(1, 3))
    // The cursor it hands back is the new kind, and pages on to the same place.
    expect((await page(served, bob, 'limit=1', two.next)).ids).toEqual([ids[3] as string])
  }, 60_000)
})

describe('a cursor handed out before a restart', () => {
  test('pages on exactly while its order is held; answers 410 CURSOR_NOT_RETAINED once it retired; made-up ones answer 400', async () => {
    let world = await startWorld({ seed: 31, params: PARAMS })
    dirs.push(world.dir)
    const ids: string[] = []
    for (let index = 0; index < 9; index++) ids.push(await placeResting(world, index % 3 === 2 ? 'acct-b' : 'acct-a'))
    await run(world, 100)
    const alice = await token('alice', ['trader'], ['acct-a'])
    const mine = ids.filter((_, index) => index % 3 !== 2)
    let served = serve(world)
    const first = await page(served, alice, 'limit=2', null)
    expect(first.ids).toEqual(mine.slice(0, 2))
    const second = await page(served, alice, 'limit=2', first.next)
    expect(second.ids).toEqual(mine.slice(2, 4))
    const keptCursor = second.next as string
    const third = await page(served, alice, 'limit=1', keptCursor)
    expect(third.ids).toEqual(mine.slice(4, 5))
    const lostCursor = third.next as string

    // Restart: the log and snapshot give the same Map; the new process builds a new index.
    unserve(served)
    await crashWorld(world)
    world = await startWorld({ dir: world.dir, clock: world.clock, venue: world.venue, seed: 31, params: PARAMS })
    served = serve(world)
    const unknown = await page(served, alice, 'limit=1', '00000000000000000000')
    expect(unknown.status).toBe(400)
    // Its order held: on from it, exactly.
    expect((await page(served, alice, 'limit=1000', keptCursor)).ids).toEqual(mine.slice(4))
    expect((await page(served, alice, 'limit=2', first.next)).ids).toEqual(mine.slice(2, 4))
    // Its order retired meanwhile (across a second restart, so that no index ever saw it): the position is lost, and said so.
    await retire(world, [mine[4] as string])
    unserve(served)
    await crashWorld(world)
    world = await startWorld({ dir: world.dir, clock: world.clock, venue: world.venue, seed: 31, params: PARAMS })
    served = serve(world)
    const lost = await page(served, alice, 'limit=1', lostCursor)
    expect(lost.status).toBe(410)
    expect(JSON.parse(lost.body)).toEqual({ error: { code: 'CURSOR_NOT_RETAINED', message: expect.stringContaining('start again without a cursor'), details: { order_id: mine[4] } } })
    // A cursor of the same shape naming another account's retired order, or one never held, answers like an unknown one.
    await retire(world, [ids[2] as string])
    const shape = lostCursor.slice(0, lostCursor.lastIndexOf('.') + 1)
    expect((await page(served, alice, 'limit=1', `${shape}${ids[2]}`)).body).toBe(unknown.body)
    expect((await page(served, alice, 'limit=1', `${shape}00000000000000000000`)).body).toBe(unknown.body)
    // Handed out by this process, the walk goes on as before.
    const fresh = await page(served, alice, 'limit=1', null)
    expect(fresh.ids).toEqual(mine.slice(0, 1))
    await retire(world, [mine[0] as string])
    expect((await page(served, alice, 'limit=1000', fresh.next)).ids).toEqual(mine.slice(1, 4).concat(mine.slice(5)).concat(nudgesOf(world, 'acct-a', mine)))
    unserve(served)
    await crashWorld(world)
  }, 120_000)
})

/** Orders of `account` held now that are not among `known` (IOC nudges still held), in acceptance order. */
function nudgesOf(world: World, account: string, known: readonly string[]): string[] {
  return [...world.gateway.engine.state.orders.values()].filter((order) => order.accountId === account && !known.includes(order.orderId)).map((order) => order.orderId)
}
