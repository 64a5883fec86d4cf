/**
 * probe:reconcile-window — what the reconcile's venue checks cost the main thread per run, and their longest
 * synchronous stretch, in this checkout and in a baseline checkout (`--base DIR`, e.g. `git worktree add DIR main` with
 * a node_modules symlink), in one process: each tree's own modules (ledger, held-order index, venue checks) are
 * imported from its directory, so each keeps its own indexes.
 *
 * The ledger is built from events directly (no gateway): `--held` orders over `--accounts` accounts, all ended within
 * the venue's trade history, `--filled-pct` of them with a fill and the venue's trade of it, the rest ended unfilled
 * (as bench:http's IOC orders mostly do), plus `--open` resting orders. A first run (the index's build) is not timed;
 * then `--runs` runs, each after `--per-run` new orders (the traffic between two runs). Every wait of a run (a slice's
 * pause, the pause between accounts, a venue answer) is a turn of the event loop; a stretch is the time between two
 * such waits. Per tree: medians of a run's summed stretches (its main-thread ms) and of its longest stretch; ratios are
 * this checkout over the baseline. The last line is JSON.
 *
 * `bun scripts/probe-reconcile-window.ts [--base /tmp/base-recon] [--held 100000] [--filled-pct 10] [--open 200]
 *   [--accounts 16] [--per-run 5000] [--runs 5]`
 */

import { resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    held: { type: 'string', default: '100000' },
    'filled-pct': { type: 'string', default: '10' },
    open: { type: 'string', default: '200' },
    accounts: { type: 'string', default: '16' },
    'per-run': { type: 'string', default: '5000' },
    runs: { type: 'string', default: '5' },
  },
})
const HELD = Number(args.held)
const FILLED_PCT = Number(args['filled-pct'])
const OPEN = Number(args.open)
const ACCOUNTS = Number(args.accounts)
const PER_RUN = Number(args['per-run'])
const RUNS = Number(args.runs)
for (const [name, value] of Object.entries({ HELD, FILLED_PCT, OPEN, ACCOUNTS, PER_RUN, RUNS })) {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${value}`)
}
const HISTORY_MS = 300_000
const AT_MS = 1_767_225_600_000
const UNIT = 100_000_000n

interface Tree {
  name: string
  applyEvent: (ledger: any, event: any, lsn: number) => { fill: any }
  initialLedger: () => any
  reconcileVenue: (source: any, ledger: any, fills: any, options: any) => Promise<{ observations: unknown[]; ran: string[] }>
  WorkSlices: new (options: any) => any
  venueClientOrderId: (orderId: string) => string
}

async function loadTree(name: string, dir: string): Promise<Tree> {
  const from = (path: string): Promise<any> => import(resolve(dir, path))
  const [ledger, state, external, slices, orders] = await Promise.all([
    from('src/backoffice/ledger.ts'), from('src/backoffice/ledger-state.ts'), from('src/backoffice/external-checks.ts'), from('src/runtime/work-slices.ts'), from('src/domain/orders.ts'),
  ])
  return { name, applyEvent: ledger.applyEvent, initialLedger: state.initialLedger, reconcileVenue: external.reconcileVenue, WorkSlices: slices.WorkSlices, venueClientOrderId: orders.venueClientOrderId }
}

const DECISION = { principalId: 'probe', roles: ['trader'], configDigest: 'cfg', buildCommit: 'probe', nowMs: AT_MS, guards: [] }

/** One tree's ledger, fills and venue trades, driven by the same orders. */
class World {
  readonly ledger: any
  readonly fills = new Map<string, any[]>()
  readonly trades = new Map<string, any[]>()
  nowMs = AT_MS
  #orders = 0

  constructor(readonly tree: Tree) {
    this.ledger = tree.initialLedger()
  }

  apply(event: object): void {
    const booked = this.tree.applyEvent(this.ledger, { atMs: this.nowMs, ...event }, this.ledger.lastLsn + 1)
    if (booked.fill === null) return
    const ofAccount = this.fills.get(booked.fill.accountId) ?? []
    ofAccount.push(booked.fill)
    this.fills.set(booked.fill.accountId, ofAccount)
  }

  /** One order: accepted, then filled (with the venue's trade) and ended, ended unfilled, or left open. */
  order(kind: 'filled' | 'unfilled' | 'open'): void {
    const index = this.#orders++
    const orderId = `p${index}`
    const accountId = `acct-${index % ACCOUNTS}`
    this.nowMs += 1
    this.apply({
      type: 'order.accepted', orderId, accountId, idempotencyKey: `k-${orderId}`, bodyDigest: 'd', clientOrderId: null, venue: 'sim', symbol: 'BTC-USD', baseAsset: 'BTC',
      quoteAsset: 'USD', side: 'buy', orderType: 'limit', qty: UNIT, price: 100n * UNIT, tif: 'IOC', postOnly: false, reduceOnly: false, lane: 1,
      venueClientOrderId: this.tree.venueClientOrderId(orderId), reservationAsset: 'USD', reservationAmount: 100n * UNIT, flattenId: null, decision: DECISION,
    })
    if (kind === 'open') return
    if (kind === 'filled') {
      const execId = `x-${orderId}`
      this.apply({ type: 'order.fill', orderId, execId, lastQty: UNIT, lastPrice: 100n * UNIT, fee: 0n, feeAsset: 'USD', cumQty: UNIT, synthetic: false, venueTimeMs: this.nowMs })
      const ofAccount = this.trades.get(accountId) ?? []
      ofAccount.push({ execId, clientOrderId: this.tree.venueClientOrderId(orderId), venueOrderId: `v-${orderId}`, account: accountId, symbol: 'BTC-USD', side: 'buy', qty: UNIT, price: 100n * UNIT, fee: 0n, feeAsset: 'USD', liquidity: 'taker', venueTimeMs: this.nowMs })
      this.trades.set(accountId, ofAccount)
    } else this.apply({ type: 'order.expired', orderId, reason: 'IOC' })
  }

  traffic(count: number): void {
    for (let index = 0; index < count; index++) this.order(index % 100 < FILLED_PCT ? 'filled' : 'unfilled')
  }
}

interface RunFigures {
  mainMs: number
  stretchMaxMs: number
}

/** One reconcile of the venue, every wait a turn of the event loop; the stretches between waits are timed. */
async function reconcileOnce(world: World): Promise<RunFigures> {
  const stretches: number[] = []
  let startMs = performance.now()
  const turn = async (): Promise<void> => {
    stretches.push(performance.now() - startMs)
    await new Promise((done) => setImmediate(done))
    startMs = performance.now()
  }
  const answer = async <T>(value: T): Promise<{ kind: 'ok'; value: T }> => (await turn(), { kind: 'ok', value })
  const adapter = {
    venue: 'sim', tradeHistoryMs: HISTORY_MS,
    trades: ({ account }: { account: string }) => answer(world.trades.get(account) ?? []),
    balances: () => answer([]),
    openOrders: () => answer([]),
  }
  const fills = {
    storedThrough: () => true,
    from: (accountId: string, _venue: string, page: { fromLsn: number; toLsn: number; afterLsn?: number; limit: number }) => {
      const all = world.fills.get(accountId) ?? []
      const after = page.afterLsn ?? page.fromLsn - 1
      let low = 0
      let high = all.length
      while (low < high) {
        const mid = (low + high) >> 1
        if (all[mid].lsn <= after) low = mid + 1
        else high = mid
      }
      const out = []
      for (let index = low; index < all.length && out.length < page.limit && all[index].lsn <= page.toLsn; index++) out.push(all[index])
      return out
    },
    ofOrder: (accountId: string, _venue: string, orderId: string) => (world.fills.get(accountId) ?? []).filter((fill) => fill.orderId === orderId),
  }
  const slices = new world.tree.WorkSlices({ sliceMs: 2, pause: turn })
  startMs = performance.now()
  const result = await world.tree.reconcileVenue({ adapter, balanceBasis: 'trading' }, world.ledger, fills, { nowMs: () => world.nowMs, pause: turn, slices })
  stretches.push(performance.now() - startMs)
  if (!result.ran.includes('venue_trades')) throw new Error(`${world.tree.name}: the trades check did not run`)
  return { mainMs: stretches.reduce((sum, ms) => sum + ms, 0), stretchMaxMs: Math.max(...stretches) }
}

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number

async function main(): Promise<void> {
  const trees = [await loadTree('current', resolve(import.meta.dir, '..'))]
  if (args.base !== undefined) trees.unshift(await loadTree('base', resolve(args.base)))
  const worlds = trees.map((tree) => new World(tree))
  for (const world of worlds) {
    for (let index = 0; index < OPEN; index++) world.order('open')
    world.traffic(HELD)
    await reconcileOnce(world) // builds the indexes: not timed
  }
  const runs = new Map<string, RunFigures[]>(trees.map((tree) => [tree.name, []]))
  const observations = new Map<string, number>()
  for (let run = 0; run < RUNS; run++) {
    // Alternating which tree goes first; both see the same traffic between runs.
    const order = run % 2 === 0 ? worlds : [...worlds].reverse()
    for (const world of order) {
      world.traffic(PER_RUN)
      Bun.gc(true)
      const figures = await reconcileOnce(world)
      runs.get(world.tree.name)!.push(figures)
      observations.set(world.tree.name, world.ledger.orders.size)
      console.log(`${world.tree.name} run ${run + 1}: ${round(figures.mainMs)} ms on the main thread, longest stretch ${round(figures.stretchMaxMs)} ms (${world.ledger.orders.size} held orders)`)
    }
  }
  const summary = (name: string): RunFigures => ({ mainMs: round(median(runs.get(name)!.map((run) => run.mainMs))), stretchMaxMs: round(median(runs.get(name)!.map((run) => run.stretchMaxMs))) })
  const current = summary('current')
  const base = args.base === undefined ? null : summary('base')
  console.log(JSON.stringify({
    probe: 'reconcile-window',
    held: HELD, filledPct: FILLED_PCT, open: OPEN, accounts: ACCOUNTS, perRun: PER_RUN, runs: RUNS,
    current,
    ...(base === null ? {} : { base, mainRatio: round(current.mainMs / base.mainMs, 3), stretchMaxRatio: round(current.stretchMaxMs / base.stretchMaxMs, 3) }),
  }))
}

await main()
