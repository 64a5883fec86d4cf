import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { openReadOnly } from '../../wal/index.ts'
import { BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource, decodeSection, QueryModelRebuild } from '../../src/backoffice/index.ts'
import { Gateway } from '../../src/runtime/index.ts'
import { paperFundings, paperKernelConfig } from '../../src/runtime/paper.ts'
import { loadNewestValid, SnapshotStore } from '../../src/runtime/snapshot/index.ts'
import { nodeIo } from '../../wal/index.ts'
import { ACCOUNTS, removeDir, run, startWorld, tempDataDir, traderA } from '../runtime/harness.ts'
import { replicator, serveReplication, waitFor } from '../runtime/ha/support.ts'

describe('the back office on a standby', () => {
  test('follows the replicated log without reconciling, and the standby snapshot carries its section, equal to a rebuild', async () => {
    const world = await startWorld({ seed: 17 })
    const server = serveReplication(() => world.gateway.engine.wal)
    const standbyDir = tempDataDir()
    const errors: string[] = []
    let standby: Gateway | null = null
    standby = await Gateway.start({
      ...world.gateway.options,
      dataDir: standbyDir,
      role: 'standby',
      venues: [],
      wal: { durability: 'none', segmentBytesMax: 1 << 20, preallocateBytes: 0 },
      kernelConfig: paperKernelConfig({ accounts: ACCOUNTS, digest: 'sim-config' }),
      fundings: paperFundings(ACCOUNTS),
      snapshotSections: [backOfficeSectionSource(() => standby)],
      onError: (error, context) => void errors.push(`${context}: ${String(error)}`),
    })
    const office = backOfficeOf(standby, { reconcileIntervalMs: null })
    const pulling = replicator(standby.engine.wal, () => server.url)
    pulling.start()
    try {
      for (let index = 0; index < 6; index++) {
        await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: `bo-${index}` }, null)
      }
      await run(world, 2_000)
      const leaderWal = world.gateway.engine.wal
      const replica = standby
      await waitFor(() => replica.engine.wal.lastLsn === leaderWal.lastLsn && office.stats().appliedLsn === leaderWal.lastLsn, 5_000, 'standby back office catch-up')
      expect(office.projector.ledger.counters.fills).toBeGreaterThan(0)
      await pulling.stop()
      await standby.stop() // the shutdown snapshot, section included
      const store = new SnapshotStore(join(standbyDir, 'snapshots'), { io: nodeIo, keep: 3 })
      const log = openReadOnly(join(standbyDir, 'log'))
      const section = decodeSection(loadNewestValid(store, log).loaded?.sections.get(BACKOFFICE_SECTION) as Uint8Array)
      const rebuild = QueryModelRebuild.fromGenesis()
      for (const frame of log.read(1, { toLsn: section.header.lsn })) rebuild.apply(frame)
      expect(section.header.queryModel.digest).toBe(rebuild.digest().digest)
      rebuild.close()
      expect(errors).toEqual([])
    } finally {
      server.stop()
      await world.gateway.stop()
      removeDir(standbyDir)
      removeDir(world.dir)
    }
  })
})
