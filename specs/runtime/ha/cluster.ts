/**
 * Real processes on loopback for the HA drills and specs: one external sim venue (`egress sim-venue`), gateway nodes
 * (`egress serve --role auto`) sharing a lease directory, and the probes the drills need (health, order lookups,
 * the venue's own inspect view). Used by scripts/failover-drill.ts and specs/runtime/ha/failover.test.ts.
 */

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { mintHs256Token } from '../../../src/http/auth/index.ts'
import { JsonlVenueClient } from '../../../src/venues/jsonl/index.ts'
import { freePort, waitFor as waitForLoopback } from '../../../scripts/support/loopback.ts'
import { readLines } from '../../../scripts/support/stream-lines.ts'

export { freePort }

/** Polls every 10 ms: the drill times takeovers with it, so it must not round them to a coarse interval. */
export function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | false>, context?: () => string): Promise<T> {
  return waitForLoopback(what, timeoutMs, probe, context === undefined ? { intervalMs: 10 } : { intervalMs: 10, context })
}

export const ROOT = resolve(import.meta.dir, '../../..')
export const DRILL_SECRET = 'failover-drill-secret-0123456789abcdef'
export const DRILL_REPLICATION_TOKEN = 'failover-replication-token-0123456789'

export type SyncPolicy = 'off' | 'fail_closed' | 'degrade_async'

export interface ClusterOptions {
  leaseTtlMs: number
  clockSkewMs: number
  /** Synchronous replication policy of every node ('off': asynchronous). */
  sync: SyncPolicy
  syncTimeoutMs: number
  /** Echo the nodes' stderr (prefixed) to this process's stderr. */
  verbose: boolean
  log: (line: string) => void
  /** Extra environment for every node (e.g. EGRESS_CONFIG). */
  env?: Record<string, string>
  /**
   * A config file every node is started with (written to `<work>/egress.json`, named by EGRESS_CONFIG unless `env`
   * names another), e.g. `{ kernel: { reconcileGraceMs: 1000 } }`. The env variables set per node still win.
   */
  config?: Record<string, unknown>
}

export interface Health {
  ready: boolean
  ha?: {
    role: string
    epoch: number
    lag_records: number
    replicating: boolean
    last_divergence: { common_lsn: number; discarded_count: number; kept_prefix_to_lsn: number | null; fallback: string | null } | null
    sync?: { policy: string; state: string; standby_durable_lsn: number }
    shadow?: { decisions: number; matches: number; mismatches: number; last_mismatches: { lsn: number; kind: string | null; difference: string }[] } | null
    takeover_refused?: { code: string; replicated_lsn: number; log_last_lsn: number } | null
  }
  log: { last_lsn: number }
}

export interface VenueInspect {
  orders: number
  placeCalls: number
  /** Place calls per connection name (`hello`: the node id; `(unnamed)` for a connection that gave none). */
  placeCallsByClient: Record<string, number>
  duplicatePlaces: number
  duplicateClientOrderIds: string[]
}

export class ClusterNode {
  child: ReturnType<typeof Bun.spawn> | null = null
  readonly stderr: string[] = []
  /** Lines the node logged about a broken invariant (an assertion, a failed durable listener), kept whole (bounded). */
  readonly invariantErrors: string[] = []

  constructor(
    readonly name: string,
    /** Changes when a start finds the port taken (Cluster.spawn starts the node again on a fresh one). */
    public port: number,
    readonly dataDir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async health(timeoutMs = 500): Promise<Health | null> {
    try {
      const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(timeoutMs) })
      if (response.status !== 200 && response.status !== 503) return null
      const body = (await response.json()) as Health
      return body.log === undefined ? null : body
    } catch {
      return null
    }
  }

  async isReadyLeader(): Promise<boolean> {
    const health = await this.health()
    return health?.ha?.role === 'leader' && health.ready
  }

  async isReplicatingStandby(): Promise<boolean> {
    const health = await this.health()
    return health?.ha?.role === 'standby' && health.ha.replicating
  }
}

export class Cluster {
  readonly work = mkdtempSync(join(tmpdir(), 'egress-failover-'))
  readonly leaseDir = join(this.work, 'lease')
  readonly nodes: ClusterNode[] = []
  venuePort = 0
  venue: JsonlVenueClient | null = null
  trader = ''
  private venueChild: ReturnType<typeof Bun.spawn> | null = null
  private stopped = false
  private readonly options: ClusterOptions
  private readonly configPath: string | null = null

  constructor(options: ClusterOptions) {
    this.options = options
    mkdirSync(this.leaseDir)
    if (options.config !== undefined) {
      this.configPath = join(this.work, 'egress.json')
      writeFileSync(this.configPath, JSON.stringify(options.config))
    }
  }

  async startVenue(): Promise<void> {
    this.trader = await mintHs256Token(DRILL_SECRET, { sub: 'drill', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 3600 })
    this.venuePort = await freePort()
    await this.spawnVenue()
  }

  /** Kills the venue process (SIGKILL): the nodes' calls to it fail until restartVenue(). */
  async killVenue(): Promise<void> {
    this.venue?.close()
    this.venue = null
    this.venueChild?.kill('SIGKILL')
    await this.venueChild?.exited
    this.venueChild = null
  }

  /** A new venue process on the same port and record file (an empty book: the old process's orders are gone). */
  async restartVenue(): Promise<void> {
    if (this.venueChild !== null) throw new Error('the venue is still running: killVenue() first')
    await this.spawnVenue()
  }

  private async spawnVenue(): Promise<void> {
    this.venueChild = Bun.spawn([process.execPath, join(ROOT, 'src/main.ts'), 'sim-venue', '--port', String(this.venuePort), '--record', join(this.work, 'venue-record.jsonl')], {
      cwd: this.work, stdout: 'ignore', stderr: 'ignore',
    })
    this.venue = await JsonlVenueClient.connect({
      venue: 'sim', hostname: '127.0.0.1', port: this.venuePort, requestTimeoutMs: 5_000, pendingMax: 16, reconnectMsMax: 200, connectWaitMs: 15_000, log: () => {},
    })
  }

  async addNode(name: string): Promise<ClusterNode> {
    const dataDir = join(this.work, name)
    mkdirSync(dataDir)
    const node = new ClusterNode(name, await freePort(), dataDir)
    this.nodes.push(node)
    return node
  }

  /**
   * Starts (or restarts) a node's process with `egress serve --role auto`; `preload` (a spec's file, e.g. one that
   * injects I/O failures) is run by bun before it, with `env` added to the node's environment.
   */
  spawn(node: ClusterNode, extra: { preload?: string; env?: Record<string, string> } = {}, listenRetries = LISTEN_RETRIES_MAX): void {
    const { leaseTtlMs, clockSkewMs, sync, syncTimeoutMs } = this.options
    const env = {
      ...process.env,
      PORT: String(node.port),
      EGRESS_HOST: '127.0.0.1',
      EGRESS_DATA_DIR: node.dataDir,
      EGRESS_HS256_SECRET: DRILL_SECRET,
      EGRESS_REPLICATION_TOKEN: DRILL_REPLICATION_TOKEN,
      ...(this.configPath === null ? {} : { EGRESS_CONFIG: this.configPath }),
      ...this.options.env,
      ...extra.env,
    }
    const command = [
      process.execPath, ...(extra.preload === undefined ? [] : ['--preload', extra.preload]), join(ROOT, 'src/main.ts'), 'serve', '--role', 'auto', '--lease-dir', this.leaseDir, '--node-id', node.name,
      '--lease-ttl-ms', String(leaseTtlMs), '--clock-skew-ms', String(clockSkewMs), '--venue', `jsonl://127.0.0.1:${this.venuePort}`,
      ...(sync === 'off' ? [] : ['--sync-replication', sync, '--sync-timeout-ms', String(syncTimeoutMs)]),
    ]
    const child = Bun.spawn(command, { cwd: node.dataDir, env, stdout: 'ignore', stderr: 'pipe' })
    node.child = child
    const refused = { listen: false }
    const read = pipeLines(child.stderr as ReadableStream<Uint8Array>, node.stderr, this.options.verbose ? `[${node.name}]` : null, node.invariantErrors, (line) => {
      if (line.startsWith(LISTEN_REFUSED)) refused.listen = true
    })
    void this.startAgainIfPortTaken(node, child, read, refused, extra, listenRetries)
  }

  /**
   * freePort's port is free only when it is asked for: until the node binds it, the OS may hand it out again (another
   * node of this cluster got node-a's port, and the drill's node-b died LISTEN_FAILED). serve refuses a taken port
   * before it writes anything, so a start refused so is made again on a fresh port, the data dir as it was.
   */
  private async startAgainIfPortTaken(
    node: ClusterNode, child: ReturnType<typeof Bun.spawn>, read: Promise<void>, refused: { listen: boolean },
    extra: { preload?: string; env?: Record<string, string> }, retries: number,
  ): Promise<void> {
    const code = await child.exited
    await read
    if (code !== 1 || !refused.listen || retries === 0 || this.stopped || node.child !== child) return
    const port = await freePort()
    if (this.stopped || node.child !== child) return
    this.options.log(`${node.name}: port ${node.port} was taken before the node bound it; starting it again on ${port}`)
    node.port = port
    this.spawn(node, extra, retries - 1)
  }

  async leader(): Promise<ClusterNode | null> {
    for (const node of this.nodes) if (await node.isReadyLeader()) return node
    return null
  }

  async inspectVenue(): Promise<VenueInspect> {
    if (this.venue === null) throw new Error('the venue is not started')
    return (await this.venue.inspect()) as VenueInspect
  }

  /**
   * A GET as the drill's trader, as a client should read: a 429 (the per-caller read budget, src/http/read-limit.ts)
   * is waited out for its Retry-After and asked again, up to 30 s in all; any other answer is returned.
   */
  private async read(node: ClusterNode, path: string): Promise<Response> {
    const deadline = Date.now() + 30_000
    for (;;) {
      const response = await fetch(`${node.url}${path}`, { headers: { Authorization: `Bearer ${this.trader}` }, signal: AbortSignal.timeout(2_000) })
      if (response.status !== 429 || Date.now() > deadline) return response
      await response.body?.cancel()
      await Bun.sleep(Math.max(1, Number(response.headers.get('retry-after') ?? '1')) * 1_000)
    }
  }

  /** Orders the node holds in `state` (one page of up to 500). */
  async ordersIn(node: ClusterNode, state: string): Promise<string[]> {
    const response = await this.read(node, `/v1/orders?state=${state}&limit=500`)
    if (response.status !== 200) throw new Error(`GET /v1/orders?state=${state} on ${node.name}: ${response.status}`)
    return ((await response.json()) as { orders: Array<{ order_id: string }> }).orders.map((order) => order.order_id)
  }

  async hasOrder(node: ClusterNode, orderId: string): Promise<boolean> {
    return (await this.orderStatus(node, orderId)) !== null
  }

  /** The order's status on the node, or null if the node does not hold it (404); any other failure throws. */
  async orderStatus(node: ClusterNode, orderId: string): Promise<string | null> {
    const response = await this.read(node, `/v1/orders/${orderId}`)
    if (response.status === 404) return null
    if (response.status !== 200) throw new Error(`GET /v1/orders/${orderId} on ${node.name}: ${response.status}`)
    const body = (await response.json()) as { status?: string; state?: string }
    return body.status ?? body.state ?? 'unknown-shape'
  }

  /** Kills every process (idempotent). */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const node of this.nodes) {
      node.child?.kill('SIGCONT')
      node.child?.kill('SIGKILL')
    }
    await Promise.all(this.nodes.map((node) => node.child?.exited))
    this.venue?.close()
    this.venueChild?.kill('SIGKILL')
    await this.venueChild?.exited
  }

  remove(): void {
    rmSync(this.work, { recursive: true, force: true })
  }
}

/** How serve's refusal of a taken port begins (serve-refusals.ts listenRefusal, main.ts's error line). */
const LISTEN_REFUSED = 'egress serve: LISTEN_FAILED:'
/** Starts made again on a fresh port after a refused one, per spawn: each is a new port from the OS. */
const LISTEN_RETRIES_MAX = 3

/** What a node logs when an invariant broke: never expected in a drill, whatever else the checks see. */
const INVARIANT_ERROR = /assertion failed|durable listener/
const INVARIANT_ERRORS_KEPT_MAX = 50

/**
 * Keeps the last lines of a child's stderr (for failure messages), echoing them when `prefix` is set; lines about a
 * broken invariant also go to `invariantSink` (the first ones, which the last-lines window could drop).
 */
function pipeLines(
  stream: ReadableStream<Uint8Array>, sink: string[], prefix: string | null, invariantSink: string[] | null = null, onLine: (line: string) => void = () => {},
): Promise<void> {
  return readLines(stream, (line) => {
    onLine(line)
    sink.push(line)
    if (sink.length > 500) sink.shift()
    if (invariantSink !== null && invariantSink.length < INVARIANT_ERRORS_KEPT_MAX && INVARIANT_ERROR.test(line)) invariantSink.push(line)
    if (prefix !== null) process.stderr.write(`${prefix} ${line}\n`)
  }).catch(() => {})
}
