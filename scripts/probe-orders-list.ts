/**
 * probe:orders-list — what one `GET /v1/orders` page costs the main thread (the one that decides and acknowledges
 * orders) while the kernel holds many orders: the retained ended ones of the last hour (src/kernel/retention.ts).
 *
 * Each run is a child process holding serve's gateway and HTTP app in-process (scripts/support/in-process-serve.ts).
 * It places one bench order through the app for a real Order as a template, then puts `--orders` copies of it straight
 * into the kernel's `state.orders` (what the list reads; through the log it would take minutes per million): ended
 * (Filled, Canceled, Expired) over eight busy accounts, one in every orders/50 of account `acct-small`, and one in
 * every orders/20 still open (AckedOpen), accepted four a millisecond. Then it times pages through `app.fetch`, the median of `--repeats`:
 *
 * - first: an ops reader's first page (limit 100);
 * - deep: the page after an order 500 from the end;
 * - scoped: a trader of `acct-small` only, first page (it holds 50 orders, spread over the whole list);
 * - stateFew: `state=AckedOpen` (20 orders), first page; and following next_cursor to null: pages and total ms.
 *
 * With `--base DIR` (a checkout of the baseline with node_modules, e.g. `git worktree add DIR main`) each size runs
 * there too, in its own child, with the same state: the baseline's figures and whether both answered the same orders
 * (the ids each scenario listed, all pages). It also gives the heap each order costs and the time putting them in took
 * (the index follows state.orders, so that includes its upkeep). The last line is JSON.
 *
 * `bun scripts/probe-orders-list.ts [--base DIR] [--orders 100000,1000000] [--repeats 7]`
 */

import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { median } from './support/figures.ts'

const BULK_ACCOUNTS = 8
const SMALL_ACCOUNT_ORDERS = 50
const OPEN_ORDERS = 20
const PAGE_LIMIT = 100
const DEEP_FROM_END = 500

interface ScenarioFigures {
  /** Median ms of one page. */
  msPerPage: number
  /** The orders that page listed, and its next_cursor (null or set). */
  listed: number
  more: boolean
}

interface RunFigures {
  orders: number
  insertMs: number
  heapBytesPerOrder: number
  first: ScenarioFigures
  deep: ScenarioFigures
  scoped: ScenarioFigures
  stateFew: ScenarioFigures & { pagesToEnd: number; totalMsToEnd: number; slowestPageMs: number }
  /** Every scenario's ids followed to the end, hashed: equal on both sides means the same answers. */
  answersDigest: string
}

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places

async function child(root: string, orderCount: number, repeats: number): Promise<RunFigures> {
  const { placeBenchOrders, startInProcessServe } = (await import(join(root, 'scripts/support/in-process-serve.ts'))) as typeof import('./support/in-process-serve.ts')
  const { BENCH_SECRET, benchToken } = (await import(join(root, 'scripts/support/bench-load.ts'))) as typeof import('./support/bench-load.ts')
  const { mintHs256Token } = (await import(join(root, 'src/http/auth/index.ts'))) as typeof import('../src/http/auth/index.ts')
  const serve = await startInProcessServe('probe-orders-list')
  try {
    await placeBenchOrders(serve, { firstIndex: 0, count: 1, concurrency: 1, token: await benchToken(), keyPrefix: 'template', deadlineMs: performance.now() + 30_000 })
    const orders = serve.served.gateway.engine.state.orders
    const template = [...orders.values()][0]
    if (template === undefined) throw new Error('the template order is not in the state')
    Bun.gc(true)
    const heapBefore = process.memoryUsage().heapUsed
    const startedMs = performance.now()
    const smallEvery = Math.floor(orderCount / SMALL_ACCOUNT_ORDERS)
    const openEvery = Math.floor(orderCount / OPEN_ORDERS)
    const ids: string[] = []
    for (let index = 0; index < orderCount; index++) {
      const orderId = `p${index.toString(16).padStart(19, '0')}`
      const accountId = index % smallEvery === smallEvery - 1 ? 'acct-small' : `acct-${index % BULK_ACCOUNTS}`
      const status = index % openEvery === openEvery / 2 ? 'AckedOpen' : index % 20 === 0 ? 'Expired' : index % 4 === 0 ? 'Canceled' : 'Filled'
      // Four orders a millisecond, as accepted at 4,000 a second.
      const acceptedAtMs = template.acceptedAtMs + 1 + Math.floor(index / 4)
      orders.set(orderId, { ...template, orderId, accountId, status, acceptedAtMs, updatedAtMs: acceptedAtMs, venueClientOrderId: `${orderId}-0`, clientIdChain: [`${orderId}-0`] })
      ids.push(orderId)
    }
    const insertMs = performance.now() - startedMs
    Bun.gc(true)
    const heapBytesPerOrder = (process.memoryUsage().heapUsed - heapBefore) / orderCount
    const token = (roles: ('ops' | 'trader')[], accounts: string[]) =>
      mintHs256Token(BENCH_SECRET, { sub: 'probe', roles, accounts, issuer: 'egress', audience: 'egress-api', ttlSec: 3600 })
    const ops = await token(['ops'], [])
    const trader = await token(['trader'], ['acct-small'])
    const get = async (path: string, bearer: string): Promise<{ ms: number; body: { orders: { order_id: string }[]; next_cursor: string | null } }> => {
      const started = performance.now()
      const response = await serve.http.app.fetch(new Request(`http://probe${path}`, { headers: { Authorization: `Bearer ${bearer}` } }))
      const text = await response.text()
      const ms = performance.now() - started
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${text}`)
      return { ms, body: JSON.parse(text) }
    }
    const answers: string[] = []
    const scenario = async (path: string, bearer: string): Promise<ScenarioFigures> => {
      const times: number[] = []
      let last = await get(path, bearer)
      for (let repeat = 0; repeat < repeats; repeat++) {
        last = await get(path, bearer)
        times.push(last.ms)
      }
      return { msPerPage: round(median(times), 3), listed: last.body.orders.length, more: last.body.next_cursor !== null }
    }
    /** Follows next_cursor to null; the ids listed go into the digest. */
    const toEnd = async (path: string, bearer: string, from: string | null = null): Promise<{ pages: number; totalMs: number; slowestMs: number }> => {
      let cursor: string | null = from
      let pages = 0
      let totalMs = 0
      let slowestMs = 0
      do {
        const page = await get(`${path}${cursor === null ? '' : `&cursor=${cursor}`}`, bearer)
        pages++
        totalMs += page.ms
        slowestMs = Math.max(slowestMs, page.ms)
        for (const order of page.body.orders) answers.push(order.order_id)
        cursor = page.body.next_cursor
        if (pages > orderCount) throw new Error(`${path}: more pages than orders; the cursor does not move on`)
      } while (cursor !== null)
      answers.push('|')
      return { pages, totalMs, slowestMs }
    }
    process.stderr.write(`probe:orders-list: ${orderCount} orders in (${Math.round(insertMs)} ms)\n`)
    const deepCursor = ids[orderCount - DEEP_FROM_END] as string
    const first = await scenario(`/v1/orders?limit=${PAGE_LIMIT}`, ops)
    const deep = await scenario(`/v1/orders?limit=${PAGE_LIMIT}&cursor=${deepCursor}`, ops)
    const scoped = await scenario(`/v1/orders?limit=${PAGE_LIMIT}`, trader)
    const stateFew = await scenario(`/v1/orders?limit=${PAGE_LIMIT}&state=AckedOpen`, ops)
    const stateToEnd = await toEnd(`/v1/orders?limit=${PAGE_LIMIT}&state=AckedOpen`, ops)
    await toEnd(`/v1/orders?limit=${PAGE_LIMIT}`, ops, deepCursor)
    await toEnd(`/v1/orders?limit=${PAGE_LIMIT}`, trader)
    await toEnd(`/v1/orders?limit=${PAGE_LIMIT}&account=acct-small&symbol=${template.symbol}`, ops)
    const digest = new Bun.CryptoHasher('sha256').update(answers.join(',')).digest('hex').slice(0, 16)
    return {
      orders: orderCount,
      insertMs: round(insertMs, 0),
      heapBytesPerOrder: round(heapBytesPerOrder, 0),
      first,
      deep,
      scoped,
      stateFew: { ...stateFew, pagesToEnd: stateToEnd.pages, totalMsToEnd: round(stateToEnd.totalMs, 1), slowestPageMs: round(stateToEnd.slowestMs, 3) },
      answersDigest: digest,
    }
  } finally {
    await serve.close()
  }
}

async function runChild(root: string, orderCount: number, repeats: number): Promise<RunFigures> {
  const args = ['--child', root, '--orders', String(orderCount), '--repeats', String(repeats)]
  const run = Bun.spawn([process.execPath, import.meta.path, ...args], { stdout: 'pipe', stderr: 'inherit' })
  const output = await new Response(run.stdout).text()
  if ((await run.exited) !== 0) throw new Error(`the run of ${root} exited with ${run.exitCode}`)
  return JSON.parse(output.trim().split('\n').at(-1) ?? '') as RunFigures
}

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    base: { type: 'string' },
    orders: { type: 'string', default: '100000,1000000' },
    repeats: { type: 'string', default: '7' },
  },
})
const repeats = Number(values.repeats)
const sizes = (values.orders as string).split(',').map(Number)
if (!(Number.isSafeInteger(repeats) && repeats >= 1)) throw new RangeError(`--repeats must be a positive integer, got ${values.repeats}`)
for (const size of sizes) if (!(Number.isSafeInteger(size) && size >= 1000)) throw new RangeError(`--orders must be integers of at least 1000, got ${values.orders}`)

if (values.child !== undefined) {
  process.stdout.write(`${JSON.stringify(await child(values.child, sizes[0] as number, repeats))}\n`)
} else {
  const current = resolve(import.meta.dir, '..')
  const base = values.base === undefined ? null : resolve(values.base)
  const runs = []
  for (const size of sizes) {
    const after = await runChild(current, size, repeats)
    process.stderr.write(`probe:orders-list: ${size} orders, this checkout: ${JSON.stringify(after)}\n`)
    const before = base === null ? null : await runChild(base, size, repeats)
    if (before !== null) process.stderr.write(`probe:orders-list: ${size} orders, base: ${JSON.stringify(before)}\n`)
    runs.push({ orders: size, current: after, ...(before === null ? {} : { base: before, sameAnswers: before.answersDigest === after.answersDigest }) })
  }
  process.stdout.write(`${JSON.stringify({ probe: 'orders-list', pageLimit: PAGE_LIMIT, repeats, runs })}\n`)
}
