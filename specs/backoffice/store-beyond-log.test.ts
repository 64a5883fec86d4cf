// The query model (DIR/backoffice.sqlite) holds the log through an LSN past the log's end, on a single node writing
// with durability fsync: the back office writes only durable records, so the log lost records that were durable and
// acknowledged (a lost last segment, a log restored from an older copy). Before the fix `egress serve` started anyway:
// the store "did not match the log" and was emptied and rebuilt — the one witness of the loss erased — and bootstrap
// appended new records at the lost LSNs. A snapshot beyond the log's end already refuses the start
// (LOG_BEHIND_SNAPSHOT); now the query model does too (QUERY_MODEL_BEYOND_LOG), before anything is appended.
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { QueryModelStoreError } from '../../src/backoffice/index.ts'
import { storedQueryModelLsn } from '../../src/runtime/durable-witnesses.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { removeDir, tempDataDir } from '../runtime/harness.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const trader = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }

function serve(dir: string): ReturnType<typeof startServeGateway> {
  // Shadow: decisions are logged, nothing goes to a venue, so a start has nothing at a venue to converge on.
  const config = parseConfig({ dataDir: dir, mode: 'shadow', auth: { hs256Enabled: true }, wal: { durability: 'fsync' }, snapshots: { atShutdown: false } })
  return startServeGateway(config, { clock: new StoppableClock(), buildCommit: 'spec', onError: () => {}, wal: { segmentBytesMax: 4096, preallocateBytes: 0 } })
}

describe('a query model beyond the end of the log', () => {
  test('refuses the start (QUERY_MODEL_BEYOND_LOG) before anything is appended, the query model left as it was; moved aside, the start goes on', async () => {
    const dir = tempDataDir()
    dirs.push(dir)
    const first = await serve(dir)
    for (let index = 0; index < 40; index++) {
      const body = { account: 'demo-1', symbol: 'BTC-USD', side: index % 2 === 0 ? 'buy' : 'sell', type: 'limit', qty: '0.001', price: '60000' }
      expect((await first.gateway.place(trader, body, `beyond-${index}`)).reply.kind).toBe('accepted')
    }
    await first.stop()
    const logDir = join(dir, 'log')
    const lastLsn = openReadOnly(logDir).lastLsn
    expect(storedQueryModelLsn(dir)).toBe(lastLsn)
    // The log loses its last two segments (acknowledged records among them).
    for (const name of readdirSync(logDir).filter((file) => file.endsWith('.seg')).sort().slice(-2)) rmSync(join(logDir, name))
    const truncatedLsn = openReadOnly(logDir).lastLsn
    expect(truncatedLsn).toBeLessThan(lastLsn)

    const refused = await serve(dir).then(() => null, (error: unknown) => error)
    expect(refused).toBeInstanceOf(QueryModelStoreError)
    expect((refused as QueryModelStoreError).code).toBe('QUERY_MODEL_BEYOND_LOG')
    expect((refused as Error).message).toContain(`through LSN ${lastLsn}, the log ends at ${truncatedLsn}`)
    expect(openReadOnly(logDir).lastLsn).toBe(truncatedLsn) // bootstrap never ran: no LSN handed out again
    expect(storedQueryModelLsn(dir)).toBe(lastLsn) // the witness is kept

    // The operator's decision: the query model moved aside, the start goes on and rebuilds it from the log.
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(join(dir, `backoffice.sqlite${suffix}`))) renameSync(join(dir, `backoffice.sqlite${suffix}`), join(dir, `backoffice.sqlite${suffix}.aside`))
    }
    const again = await serve(dir)
    await again.stop()
    expect(storedQueryModelLsn(dir)).toBe(openReadOnly(logDir).lastLsn)
  }, 60_000)
})
