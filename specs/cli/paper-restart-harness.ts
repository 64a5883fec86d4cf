// Starting, stopping and restarting serve's paper gateway (the in-process sim venue, resumed from egress's log) over
// one data directory, for the specs of the sim's resume. A spec calls `harness.cleanup()` in its afterEach.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'

export const TRADER: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
export const RESTING = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC' }
export const CROSSING = { ...RESTING, price: '61000', tif: 'IOC' }

export class PaperRestarts {
  readonly #dirs: string[] = []
  readonly #running: { served: ServeGateway; clock: StoppableClock }[] = []

  newDataDir(): string {
    const dataDir = mkdtempSync(join(tmpdir(), 'egress-paper-restart-'))
    this.#dirs.push(dataDir)
    return dataDir
  }

  /**
   * serve on `dataDir`: no fsync, no periodic back-office reconcile, `kernel` parameters over the defaults, and the
   * config's `accounts` when given (default: the demo accounts).
   */
  async start(dataDir: string, kernel: Record<string, number> = {}, accounts?: readonly object[]): Promise<ServeGateway> {
    const clock = new StoppableClock()
    const config = parseConfig({
      dataDir,
      wal: { durability: 'none' },
      auth: { hs256Secret: 'x'.repeat(32) },
      backoffice: { reconcileIntervalMs: 86_400_000 },
      kernel,
      ...(accounts === undefined ? {} : { accounts }),
    })
    const served = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError: (error) => { throw error } })
    this.#running.push({ served, clock })
    return served
  }

  /** Stops `served` as serve does; its clock's pending timers (the sim venue's calls and reports in flight) die with it. */
  async stop(served: ServeGateway): Promise<void> {
    const index = this.#running.findIndex((item) => item.served === served)
    const [entry] = this.#running.splice(index, 1)
    if (entry === undefined) throw new Error('not running')
    await served.stop()
    entry.clock.cancelAll()
  }

  async cleanup(): Promise<void> {
    for (const { served, clock } of this.#running.splice(0)) {
      await served.stop()
      clock.cancelAll()
    }
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  }
}

export async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > timeoutMs) throw new Error('timed out')
    await Bun.sleep(5)
  }
}

export async function place(served: ServeGateway, body: object, key: string): Promise<string> {
  const result = await served.gateway.place(TRADER, body, key)
  if (result.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result.reply)}`)
  return result.reply.orderId
}
