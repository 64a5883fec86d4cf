import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../src/cli/index.ts'
import { snapshotPolicyOf, startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import {
  backOfficeConfigOf, canonicalConfigJson, configDigest, defaultConfig, loadConfig, parseConfig, snapshotsConfigOf,
} from '../../src/config/index.ts'
import { BACKOFFICE_SECTION, backOfficeOf } from '../../src/backoffice/index.ts'
import { loadNewestValid, SnapshotStore } from '../../src/runtime/snapshot/index.ts'
import { nodeIo, openReadOnly } from '../../wal/index.ts'
import { recordingIo } from '../cli/io.ts'
import { messageOf } from './support.ts'

describe('config snapshots and backoffice', () => {
  test('absent sections keep the digest of configs written before them; the defaults apply', () => {
    const config = defaultConfig()
    expect(canonicalConfigJson(config)).not.toContain('snapshots')
    expect(canonicalConfigJson(config)).not.toContain('backoffice')
    expect(snapshotsConfigOf(config)).toEqual({ enabled: true, load: true, keep: 3, everyRecords: 0, everyMs: 0, atShutdown: true, compaction: 'off' })
    expect(backOfficeConfigOf(config)).toEqual({ reconcileIntervalMs: 10_000 })
    expect(configDigest(parseConfig({ snapshots: { everyRecords: 1000 } }))).not.toBe(configDigest(config))
  })

  test('a snapshots section becomes the gateway policy', () => {
    const config = parseConfig({ snapshots: { everyRecords: 50_000, everyMs: 60_000, keep: 5, compaction: 'archive', archiveDir: '/srv/egress/archive', atShutdown: false } })
    expect(snapshotPolicyOf(config)).toEqual({ enabled: true, load: true, keep: 5, everyRecords: 50_000, everyMs: 60_000, atShutdown: false, compaction: 'archive', archiveDir: '/srv/egress/archive' })
    expect(snapshotPolicyOf(defaultConfig())).toMatchObject({ everyRecords: 0, everyMs: 0, compaction: 'off', archiveDir: null })
  })

  test('bad values are refused naming the field', () => {
    expect(messageOf(() => parseConfig({ snapshots: { keep: 0 } }))).toContain('snapshots.keep: expected an integer between 1 and 100, got 0')
    expect(messageOf(() => parseConfig({ snapshots: { everyMs: 500 } }))).toContain('snapshots.everyMs: expected 0 (off) or at least 1000, got 500')
    expect(messageOf(() => parseConfig({ snapshots: { everyRecords: -1 } }))).toContain('snapshots.everyRecords: expected an integer')
    expect(messageOf(() => parseConfig({ snapshots: { compaction: 'zip' } }))).toContain('snapshots.compaction: expected "off", "archive" or "delete", got "zip"')
    expect(messageOf(() => parseConfig({ snapshots: { archiveDir: '/a' } }))).toContain('snapshots.archiveDir: only used with compaction "archive"')
    expect(messageOf(() => parseConfig({ snapshots: { evryRecords: 5 } }))).toContain('snapshots.evryRecords: unknown field')
    expect(messageOf(() => parseConfig({ snapshots: { enabled: false, everyRecords: 10 } }))).toContain('snapshots.everyRecords: snapshots are disabled (snapshots.enabled false): expected 0, got 10')
    expect(messageOf(() => parseConfig({ snapshots: { enabled: false, compaction: 'delete' } }))).toContain('snapshots.compaction: snapshots are disabled')
    expect(snapshotPolicyOf(parseConfig({ snapshots: { enabled: false } }))).toMatchObject({ enabled: false, atShutdown: false })
    expect(messageOf(() => parseConfig({ backoffice: { reconcileIntervalMs: 5 } }))).toContain('backoffice.reconcileIntervalMs: expected an integer between 100 and 86400000, got 5')
  })

  test('EGRESS_BACKOFFICE_RECONCILE_MS overrides backoffice.reconcileIntervalMs, checked like the file', () => {
    expect(backOfficeConfigOf(loadConfig({ env: { EGRESS_BACKOFFICE_RECONCILE_MS: '250' } })).reconcileIntervalMs).toBe(250)
    expect(messageOf(() => loadConfig({ env: { EGRESS_BACKOFFICE_RECONCILE_MS: 'often' } }))).toContain('(from env EGRESS_BACKOFFICE_RECONCILE_MS)')
  })

  test('egress serve with a bad snapshots section exits 1 with one line naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-config-'))
    try {
      const path = join(dir, 'egress.json')
      writeFileSync(path, JSON.stringify({ dataDir: dir, snapshots: { keep: 1000 } }))
      const io = recordingIo({})
      expect(await runCli(['serve', '--config', path], io)).toBe(1)
      expect(io.stderr).toHaveLength(1)
      expect(io.stderr[0]).toContain('snapshots.keep: expected an integer between 1 and 100, got 1000')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('the serve gateway takes snapshots every N records from config, each with the back office', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-serve-'))
    const clock = new StoppableClock()
    try {
      const config = parseConfig({ dataDir: dir, wal: { durability: 'none' }, snapshots: { everyRecords: 5, keep: 2 }, backoffice: { reconcileIntervalMs: 60_000 } })
      const served = await startServeGateway(config, { clock, buildCommit: 'spec', onError: () => {} })
      expect(served.gateway.snapshotPolicy).toMatchObject({ everyRecords: 5, keep: 2 })
      const trader = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }
      for (let index = 0; index < 40 && served.gateway.snapshotter.stats.taken === 0; index++) {
        const price = String(Math.round(Number(served.venue.referencePrice('BTC-USD')?.price ?? 6_000_000_000_000n) / 1e8))
        await served.gateway.place(trader, { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price, client_order_id: `c-${index}` }, null)
        await Bun.sleep(5)
        await served.gateway.snapshotter.idle()
      }
      expect(served.gateway.snapshotter.stats.taken).toBeGreaterThan(0)
      expect(served.gateway.snapshotter.stats.failed).toBe(0)
      expect(backOfficeOf(served.gateway).stats().appliedLsn).toBeGreaterThan(0)
      await served.stop()
      const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 2 })
      const { loaded } = loadNewestValid(store, openReadOnly(join(dir, 'log')))
      expect(loaded?.sections.has(BACKOFFICE_SECTION)).toBe(true)
    } finally {
      clock.cancelAll()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
