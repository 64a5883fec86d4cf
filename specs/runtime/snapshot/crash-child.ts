/**
 * The process the snapshot crash drill kills: `egress serve`'s gateway (startServeGateway) on DIR with fsync
 * durability, its snapshots sealed with the data dir's local key, the back office open, and a snapshot every few
 * records, placing orders as fast as they are acknowledged.
 * Prints `READY {how it started}` (snapshot, back-office section) once started, `SNAP <n>` / `SNAPPED <n>` as each on-demand snapshot starts / ends, and `ACK <idempotency key>` for every
 * order whose answer came back (durable: the ACK boundary). Runs until killed.  Usage: bun crash-child.ts DIR TAG
 */

import { withLocalSealKey } from '../../../src/audit/index.ts'
import { parseConfig } from '../../../src/config/index.ts'
import { backOfficeOf } from '../../../src/backoffice/index.ts'
import { startServeGateway } from '../../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'

const [dir, tag] = process.argv.slice(2)
if (dir === undefined || tag === undefined) throw new Error('usage: crash-child.ts DIR TAG')
const config = parseConfig({
  dataDir: dir,
  // Shadow: every decision is made and logged, nothing goes to a venue — so a restart after the kill has no order
  // Unknown at a venue to wait for, and each cycle spends its time writing, not converging.
  mode: 'shadow',
  auth: { hs256Enabled: true },
  wal: { durability: 'fsync' },
  snapshots: { everyRecords: 6, keep: 2 },
  backoffice: { reconcileIntervalMs: 3_600_000 },
})
// Its snapshots sealed, as `egress serve`'s are (the data dir's local key): a kill lands in a seal's write too.
const audit = await withLocalSealKey(config.audit, { dataDir: dir, mode: config.mode })
const served = await startServeGateway(config, { audit, clock: new StoppableClock(), buildCommit: 'crash-drill', onError: (error, context) => process.stderr.write(`error: ${context}: ${String(error)}\n`) })
const { gateway } = served
const trader = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
const office = backOfficeOf(gateway).stats()
const started = { snapshotLsn: gateway.restoreReport?.snapshot?.lsn ?? null, rejected: gateway.restoreReport?.rejected ?? [], backOffice: { sectionLsn: office.sectionLsn, restoredStore: office.restoredStore, sectionProblem: office.sectionProblem, ledgerComplete: office.ledgerComplete } }
process.stdout.write(`READY ${JSON.stringify(started)}\n`)
// Besides the periodic ones, snapshots on demand back to back (the admin endpoint's path), each announced as it
// starts, so the drill can aim its kill into the middle of one.
void (async () => {
  for (let count = 0; ; count++) {
    process.stdout.write(`SNAP ${count}\n`)
    await gateway.snapshot().catch((error: unknown) => process.stderr.write(`error: snapshot: ${String(error)}\n`))
    process.stdout.write(`SNAPPED ${count}\n`)
    await Bun.sleep(count % 7)
  }
})()
for (let index = 0; ; index++) {
  const reference = served.venue.referencePrice('BTC-USD')?.price ?? 6_000_000_000_000n
  const side = index % 2 === 0 ? 'buy' : 'sell'
  const price = String(Number(reference) / 1e8)
  const keys = [0, 1, 2, 3].map((lane) => `${tag}-${index}-${lane}`)
  const results = await Promise.all(
    keys.map((key) => gateway.place(trader, { account: 'demo-1', symbol: 'BTC-USD', side, type: 'limit', qty: '0.001', price }, key).then((result) => ({ key, result }))),
  )
  for (const { key, result } of results) if (result.reply.kind === 'accepted') process.stdout.write(`ACK ${key}\n`)
}
