import { afterAll, describe, expect, test } from 'bun:test'
import { backOfficeOf, backOfficeSectionSource, type SectionDecodeObserver } from '../../../src/backoffice/index.ts'
import type { Gateway } from '../../../src/runtime/gateway.ts'
import { compactOffline, replayVerify, snapshotOffline } from '../../../src/runtime/snapshot/index.ts'
import { removeDir, run, startWorld } from '../harness.ts'
import { trade } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** How many back-office sections `work` decoded (a decode parses and checks a whole ledger), as its observer was told. */
function decodesOf<T>(work: (onSectionDecoded: SectionDecodeObserver) => T): { result: T; decodes: number } {
  let decodes = 0
  const result = work(() => void decodes++)
  return { result, decodes }
}

describe('the offline tools decode each back-office section once', () => {
  test('replay-verify on a whole log, egress snapshot, then replay-verify on the log compacted below the older snapshot', async () => {
    let gateway: Gateway | null = null
    const world = await startWorld({ seed: 431, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false }, snapshotSections: [backOfficeSectionSource(() => gateway)] })
    gateway = world.gateway
    dirs.push(world.dir)
    backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    await trade(world, { orders: 20, tag: 'd', seed: 431 })
    expect(await world.gateway.snapshot()).not.toBeNull()
    await trade(world, { orders: 10, tag: 'e', seed: 432 })
    await run(world, 200)
    await world.gateway.stop()
    expect(world.errors).toEqual([])

    // One section (the snapshot's) besides the stored query model, from genesis.
    const whole = decodesOf((onSectionDecoded) => replayVerify(world.dir, { from: 'auto', onSectionDecoded }))
    expect(whole.result.ok).toBe(true)
    expect(whole.result.queryModel?.checks.map((check) => check.status)).toEqual(['match', 'match'])

    // egress snapshot from that snapshot's section: decoded once for its lots rule and as the rebuild's start.
    const written = decodesOf((onSectionDecoded) => snapshotOffline(world.dir, { keep: 3, nowMs: 1, onSectionDecoded }))
    expect(written.result.written).not.toBeNull()
    expect(written.result.backOffice).toHaveProperty('lsn')

    // Compacted: the query model is rebuilt from the older snapshot's section, the same decode its own check made.
    const compacted = await compactOffline(world.dir, { mode: 'delete', archiveDir: null, keep: 3, dryRun: false })
    expect(compacted.firstLsnAfter).toBeGreaterThan(1)
    const fromSection = decodesOf((onSectionDecoded) => replayVerify(world.dir, { from: 'auto', onSectionDecoded }))
    expect(fromSection.result.ok).toBe(true)
    expect(fromSection.result.queryModel?.base.kind).toBe('section')
    expect(fromSection.result.queryModel?.checks.map((check) => check.status)).toEqual(['match', 'match', 'match'])
    // Before: each section twice for its check (its image's model version, its lots rule), the base's a third time for
    // the rebuild; egress snapshot twice (its lots rule, the rebuild's start).
    expect({ whole: whole.decodes, egressSnapshot: written.decodes, compacted: fromSection.decodes }).toEqual({ whole: 1, egressSnapshot: 1, compacted: 2 })
  })
})
