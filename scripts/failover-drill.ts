/**
 * Failover drill on real processes over loopback: one external sim venue (egress sim-venue), two gateways sharing a
 * lease directory (egress serve --role auto), steady order load against whichever node leads.
 *
 * Each cycle: kill -9 (or SIGSTOP with --stop) the leader under load; measure the time until the standby reports
 * itself leader and ready; keep loading the new leader; then check that every 202-acknowledged order exists on the
 * new leader and that the venue holds no duplicate client order id. With --stop, the old leader is then SIGCONTed
 * with load stopped: the venue must see no new place request and the old node must step down. The killed node is
 * restarted (as a standby, re-syncing if it diverged) before the next cycle.
 *
 *   bun scripts/failover-test.ts [--cycles N] [--stop] [--lease-ttl-ms N] [--rate N]
 *
 * Progress on stderr; results on stdout; the last line is one JSON object.
 */

import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { mintHs256Token } from '../src/http/auth/index.ts'
import { JsonlVenueClient } from '../src/venues/jsonl/index.ts'
import { formatDecimal } from '../src/domain/decimal.ts'

const ROOT = resolve(import.meta.dir, '..')
const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '3' },
    stop: { type: 'boolean', default: false },
    'lease-ttl-ms': { type: 'string', default: '2000' },
    rate: { type: 'string', default: '40' },
    keep: { type: 'boolean', default: false },
  },
})
const CYCLES = Number(values.cycles)
const LEASE_TTL_MS = Number(values['lease-ttl-ms'])
const SKEW_MS = 200
const RATE_PER_SEC = Number(values.rate)
const MODE = values.stop === true ? 'sigstop' : 'kill9'
const SECRET = 'failover-drill-secret-0123456789abcdef'
const TOKEN = 'failover-replication-token-0123456789'

const say = (message: string): void => void process.stderr.write(`failover: ${message}\n`)

async function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => done(port))
    })
  })
}

interface Node {
  name: string
  port: number
  url: string
  dataDir: string
  child: ReturnType<typeof Bun.spawn> | null
  stderr: string[]
}

const work = mkdtempSync(join(tmpdir(), 'egress-failover-'))
const leaseDir = join(work, 'lease')
mkdirSync(leaseDir)
const trader = await mintHs256Token(SECRET, { sub: 'drill', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 3600 })

function pipeLines(stream: ReadableStream<Uint8Array>, sink: string[], prefix: string): void {
  void (async () => {
    const decoder = new TextDecoder()
    let pending = ''
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true })
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        sink.push(line)
        if (sink.length > 2_000) sink.shift()
        if (process.env.FAILOVER_VERBOSE !== undefined) process.stderr.write(`${prefix} ${line}\n`)
      }
    }
  })()
}

function startNode(node: Node, venuePort: number): void {
  const env = {
    ...process.env,
    PORT: String(node.port),
    EGRESS_HOST: '127.0.0.1',
    EGRESS_DATA_DIR: node.dataDir,
    EGRESS_HS256_SECRET: SECRET,
    EGRESS_REPLICATION_TOKEN: TOKEN,
  }
  const command = [process.execPath, join(ROOT, 'src/main.ts'), 'serve', '--role', 'auto', '--lease-dir', leaseDir, '--node-id', node.name,
    '--lease-ttl-ms', String(LEASE_TTL_MS), '--clock-skew-ms', String(SKEW_MS), '--venue', `jsonl://127.0.0.1:${venuePort}`]
  node.child = Bun.spawn(command, { cwd: node.dataDir, env, stdout: 'ignore', stderr: 'pipe' })
  pipeLines(node.child.stderr as ReadableStream<Uint8Array>, node.stderr, `[${node.name}]`)
}

interface Health {
  ready: boolean
  ha?: { role: string; epoch: number; lag_records: number; replicating: boolean; last_divergence: unknown }
  log: { last_lsn: number }
}

async function health(node: Node, timeoutMs = 500): Promise<Health | null> {
  try {
    const response = await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(timeoutMs) })
    if (response.status !== 200 && response.status !== 503) return null
    const body = (await response.json()) as Health
    return body.log === undefined ? null : body
  } catch {
    return null
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null)
    if (value !== null) return value
    await Bun.sleep(20)
  }
  throw new Error(`timed out waiting for ${what}`)
}

const isLeader = async (node: Node): Promise<true | null> => {
  const h = await health(node)
  return h?.ha?.role === 'leader' && h.ready ? true : null
}

// ---- load -------------------------------------------------------------------------------------------------------

const acked = new Map<string, string>() // idempotency key → order id
let attempts = 0
let notLeader = 0
let loadRunning = false
let keySeq = 0

let limitPrice = '60000'

async function placeOnce(nodes: Node[], key: string): Promise<void> {
  const body = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: limitPrice }
  for (let attempt = 0; attempt < 200 && loadRunning; attempt++) {
    for (const node of nodes) {
      attempts++
      try {
        const response = await fetch(`${node.url}/v1/orders`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${trader}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(1_000),
        })
        if (response.status === 202) {
          const answer = (await response.json()) as { order_id: string }
          acked.set(key, answer.order_id)
          return
        }
        if (response.status === 503) notLeader++
        else if (response.status !== 429) {
          say(`place ${key} on ${node.name}: ${response.status} ${await response.text()}`)
          return
        }
      } catch {
        // refused or timed out (a dead or paused node): try the other one
      }
    }
    await Bun.sleep(50)
  }
}

function startLoad(nodes: Node[]): Promise<void> {
  loadRunning = true
  const intervalMs = 1_000 / RATE_PER_SEC
  return (async () => {
    const inFlight = new Set<Promise<void>>()
    while (loadRunning) {
      const key = `drill-${++keySeq}`
      const promise = placeOnce(nodes, key).finally(() => inFlight.delete(promise))
      inFlight.add(promise)
      await Bun.sleep(intervalMs)
    }
    await Promise.all(inFlight)
  })()
}

// ---- drill ------------------------------------------------------------------------------------------------------

const venuePort = await freePort()
const venueChild = Bun.spawn([process.execPath, join(ROOT, 'src/main.ts'), 'sim-venue', '--port', String(venuePort), '--record', join(work, 'venue-record.jsonl')], {
  cwd: work, stdout: 'pipe', stderr: 'inherit',
})
await waitFor('sim venue', 10_000, async () => {
  const probe = await Bun.connect({ hostname: '127.0.0.1', port: venuePort, socket: { data() {} } }).catch(() => null)
  probe?.end()
  return probe === null ? null : true
})
const venue = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port: venuePort, requestTimeoutMs: 5_000, pendingMax: 16, reconnectMsMax: 500, connectWaitMs: 10_000, log: say })
const reference = venue.referencePrice('BTC-USD')
if (reference !== null) limitPrice = formatDecimal(reference.price)
say(`sim venue on ${venuePort}; lease ttl ${LEASE_TTL_MS} ms; mode ${MODE}; ${CYCLES} cycles`)

const nodes: Node[] = []
for (const name of ['node-a', 'node-b']) {
  const port = await freePort()
  const dataDir = join(work, name)
  mkdirSync(dataDir)
  nodes.push({ name, port, url: `http://127.0.0.1:${port}`, dataDir, child: null, stderr: [] })
}
const [nodeA, nodeB] = nodes as [Node, Node]
startNode(nodeA, venuePort)
await waitFor('node-a leader', 30_000, () => isLeader(nodeA))
startNode(nodeB, venuePort)
await waitFor('node-b standby replicating', 30_000, async () => ((await health(nodeB))?.ha?.replicating === true ? true : null))
say('node-a leads, node-b follows')

const takeovers: number[] = []
let deposedSends = 0
let ackedLost = 0
const failures: string[] = []

for (let cycle = 1; cycle <= CYCLES; cycle++) {
  const leader = (await isLeader(nodeA)) === true ? nodeA : nodeB
  const standby = leader === nodeA ? nodeB : nodeA
  await waitFor(`${standby.name} replicating`, 30_000, async () => ((await health(standby))?.ha?.replicating === true ? true : null))
  const load = startLoad([leader, standby])
  await Bun.sleep(1_500)
  const killedAt = Date.now()
  leader.child?.kill(MODE === 'kill9' ? 'SIGKILL' : 'SIGSTOP')
  await waitFor(`${standby.name} takeover`, LEASE_TTL_MS + SKEW_MS + 20_000, () => isLeader(standby))
  const takeoverMs = Date.now() - killedAt
  takeovers.push(takeoverMs)
  say(`cycle ${cycle}: ${leader.name} ${MODE === 'kill9' ? 'killed' : 'stopped'}; ${standby.name} leads after ${takeoverMs} ms`)
  await Bun.sleep(1_000)
  loadRunning = false
  await load

  // Every acknowledged order must exist on the new leader.
  let lostThisCycle = 0
  for (const [key, orderId] of acked) {
    const response = await fetch(`${standby.url}/v1/orders/${orderId}`, { headers: { Authorization: `Bearer ${trader}` } })
    if (response.status !== 200) {
      lostThisCycle++
      failures.push(`cycle ${cycle}: acked order ${orderId} (${key}) missing on ${standby.name}: ${response.status}`)
    }
  }
  ackedLost += lostThisCycle

  if (MODE === 'sigstop') {
    // With load stopped and the new leader settled, the woken old leader must send nothing and step down.
    await Bun.sleep(1_000)
    const before = (await venue.inspect()) as { placeCalls: number }
    leader.child?.kill('SIGCONT')
    await Bun.sleep(LEASE_TTL_MS + 1_000)
    const after = (await venue.inspect()) as { placeCalls: number }
    deposedSends += after.placeCalls - before.placeCalls
    const old = await health(leader)
    say(`cycle ${cycle}: woken ${leader.name} is ${old?.ha?.role ?? 'unreachable'}; venue place calls ${before.placeCalls} → ${after.placeCalls}`)
    if (old?.ha?.role === 'leader') failures.push(`cycle ${cycle}: woken ${leader.name} still claims leader`)
  } else {
    await leader.child?.exited
    startNode(leader, venuePort)
  }
  await waitFor(`${leader.name} back as standby`, 30_000, async () => {
    const h = await health(leader)
    return h?.ha?.role === 'standby' && h.ha.replicating ? h : null
  }).then((h) => {
    if (h.ha?.last_divergence !== null && h.ha?.last_divergence !== undefined) say(`cycle ${cycle}: ${leader.name} re-synced after divergence: ${JSON.stringify(h.ha.last_divergence)}`)
  }).catch((error: unknown) => failures.push(String(error)))
}

const inspected = (await venue.inspect()) as { orders: number; duplicateClientOrderIds: string[]; placeCalls: number; duplicatePlaces: number }
const sorted = [...takeovers].sort((a, b) => a - b)
const median = sorted[Math.floor(sorted.length / 2)] ?? 0

for (const node of nodes) node.child?.kill('SIGKILL')
venue.close()
venueChild.kill('SIGTERM')
await venueChild.exited
if (values.keep !== true) rmSync(work, { recursive: true, force: true })
else say(`kept ${work}`)

console.log(`cycles ${CYCLES} (${MODE}), lease ttl ${LEASE_TTL_MS} ms`)
console.log(`takeover ms: min ${sorted[0] ?? 0}, median ${median}, max ${sorted.at(-1) ?? 0}`)
console.log(`orders acknowledged ${acked.size}, lost ${ackedLost}; place attempts ${attempts} (NOT_LEADER/unavailable ${notLeader})`)
console.log(`venue: orders ${inspected.orders}, place calls ${inspected.placeCalls}, duplicate place requests deduped ${inspected.duplicatePlaces}, duplicate client order ids ${inspected.duplicateClientOrderIds.length}`)
if (MODE === 'sigstop') console.log(`sends by woken deposed leaders: ${deposedSends}`)
for (const failure of failures) console.log(`FAIL ${failure}`)
console.log(JSON.stringify({
  bench: 'failover',
  mode: MODE,
  cycles: CYCLES,
  leaseTtlMs: LEASE_TTL_MS,
  takeoverMsMin: sorted[0] ?? 0,
  takeoverMsMedian: median,
  takeoverMsMax: sorted.at(-1) ?? 0,
  ordersAcked: acked.size,
  ackedLost,
  venueDuplicates: inspected.duplicateClientOrderIds.length,
  ...(MODE === 'sigstop' ? { deposedSends } : {}),
  failures: failures.length,
}))
process.exit(failures.length === 0 && ackedLost === 0 && inspected.duplicateClientOrderIds.length === 0 && deposedSends === 0 ? 0 : 1)
