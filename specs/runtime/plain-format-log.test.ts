/**
 * A data directory written before the compact payload format: its domain events are version 2 (plain binary), and
 * once this build runs on it, later ones are version 3. Restart replay from such a log — all version 2, or version 2
 * then version 3 — rebuilds the same kernel state as the log this build wrote itself.
 */

import { EVENT_VERSIONS } from '../../src/domain/events/registry.ts'
import type { EventType } from '../../src/domain/events/types.ts'
import { schemaAtVersion } from '../../src/domain/events/binary-records.ts'
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recordLayoutOf } from '../../src/domain/events/binary-layout.ts'
import { decodeEvent, eventTypeForCode, type EncodedEvent } from '../../src/domain/events/index.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { restoreEngine, SnapshotStore } from '../../src/runtime/snapshot/index.ts'
import { nodeIo, Wal, type RecordInput } from '../../wal/index.ts'
import { writeRecordInterpreted } from '../domain/events/interpreted-writer.ts'
import { crashWorld, removeDir } from './harness.ts'
import { tradedWorld } from './snapshot/support.ts'

const WAL = { durability: 'none', preallocateBytes: 0 } as const
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** The record as version 2 wrote it: a domain event in the plain binary format; any other record as it is. */
function asPlain(record: EncodedEvent): RecordInput {
  const name = eventTypeForCode(record.type)
  if (name === null) return record
  const { type, ...body } = decodeEvent(record)
  return { type: record.type, version: 2, payload: writeRecordInterpreted(recordLayoutOf(schemaAtVersion(type, 2), 'plain'), body, type) }
}

/** Writes `records` to a new log under a new directory; returns the directory. */
async function logOf(records: readonly RecordInput[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-plain-log-'))
  dirs.push(dir)
  const wal = Wal.open(join(dir, 'log'), WAL)
  for (let at = 0; at < records.length; at += 256) await wal.append(records.slice(at, at + 256))
  await wal.close()
  return dir
}

function restoredDigest(dir: string): string {
  const wal = Wal.open(join(dir, 'log'), WAL)
  try {
    const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 2 })
    return stateDigest(restoreEngine(wal, store, { load: false }).engine.state)
  } finally {
    void wal.close()
  }
}

describe('a log with version 2 records', () => {
  test('replays to the same kernel state as the same log in version 3, whole or with version 3 records after the version 2 ones', async () => {
    // Configured as builds before the cap on ended orders held (payload version 8) were: version 2 has no room for it.
    const world = await tradedWorld(13, 60, { beforeHeldCap: true })
    dirs.push(world.dir)
    await world.gateway.engine.settled()
    const records: EncodedEvent[] = []
    for (const frame of world.gateway.engine.wal.read(1)) records.push({ type: frame.type, version: frame.version, payload: frame.payload.slice() })
    await crashWorld(world)
    const events = records.filter((record) => eventTypeForCode(record.type) !== null)
    expect(events.length).toBeGreaterThan(300)
    // Version 3, or 4 for the types that gained the optional traceparent (registry.ts MEMBERS_ADDED).
    expect(events.every((record) => record.version === EVENT_VERSIONS[eventTypeForCode(record.type) as EventType])).toBe(true)

    const current = restoredDigest(await logOf(records))
    const plain = records.map(asPlain)
    expect(plain.filter((record) => record.version === 2).length).toBe(events.length)
    // Not the same bytes: only the same events.
    expect(plain.reduce((sum, record) => sum + record.payload.length, 0)).toBeGreaterThan(records.reduce((sum, record) => sum + record.payload.length, 0))
    expect(restoredDigest(await logOf(plain))).toBe(current)
    const half = Math.floor(records.length / 2)
    expect(restoredDigest(await logOf([...plain.slice(0, half), ...records.slice(half)]))).toBe(current)
  })
})
