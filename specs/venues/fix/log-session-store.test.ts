/**
 * LogFixSessionStore: a FIX session's sequence numbers kept in the gateway's write-ahead log (records appended through
 * the engine, found again by scanning back from the end), and a restart that resumes numbering from the log.
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wal, copyFrame } from '../../../wal/index.ts'
import { WallClock } from '../../../src/runtime/clock.ts'
import { Engine } from '../../../src/runtime/engine.ts'
import type { FixLogRecord as FixLogLine } from '../../../src/venues/fix/log.ts'
import {
  decodeFixSeqNumsRecord,
  FIX_SEQ_NUMS_RECORD,
  LogFixSessionStore,
  type FixSeqNumLog,
} from '../../../src/venues/fix/log-session-store.ts'
import { FixVenue } from '../../../src/venues/fix/venue.ts'
import { executorMissing, QuickFixExecutor } from './quickfix-executor.ts'

const dirs: string[] = []
const wals: Wal[] = []

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-fix-store-'))
  dirs.push(dir)
  return dir
}

/** The gateway's log as serve wires it: the engine appends, the WAL reads. */
function openLog(dir: string): { engine: Engine; wal: Wal; log: FixSeqNumLog } {
  const wal = Wal.open(join(dir, 'log'), { durability: 'none' })
  wals.push(wal)
  const engine = Engine.replay(wal)
  const log: FixSeqNumLog = {
    append: (records) => engine.appendRecords(records),
    read: (fromLsn, toLsn) => wal.read(fromLsn, { toLsn }),
    bounds: () => ({ firstLsn: wal.firstLsn, lastLsn: wal.lastLsn }),
  }
  return { engine, wal, log }
}

async function close(wal: Wal): Promise<void> {
  wals.splice(wals.indexOf(wal), 1)
  await wal.close()
}

afterEach(async () => {
  for (const wal of wals.splice(0)) await wal.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('LogFixSessionStore', () => {
  test('a venue never saved loads 1/1', async () => {
    const { log } = openLog(tempDir())
    const store = new LogFixSessionStore({ venue: 'broker-a', log })
    expect(await store.load()).toEqual({ nextSenderSeqNum: 1, nextTargetSeqNum: 1 })
    expect(store.loadedFrom).toBe('fresh')
  })

  test('restart resumes numbering from the log, and the kernel replays past the records', async () => {
    const dir = tempDir()
    const first = openLog(dir)
    const store = new LogFixSessionStore({ venue: 'broker-a', log: first.log })
    await store.load()
    await store.save({ nextSenderSeqNum: 2, nextTargetSeqNum: 1 })
    await store.save({ nextSenderSeqNum: 5, nextTargetSeqNum: 7 })
    const frames = Array.from(first.wal.read(1), copyFrame)
    expect(frames.map((frame) => frame.type)).toEqual([FIX_SEQ_NUMS_RECORD.type, FIX_SEQ_NUMS_RECORD.type])
    expect(decodeFixSeqNumsRecord(frames[1] as (typeof frames)[number])).toEqual({ venue: 'broker-a', seqNums: { nextSenderSeqNum: 5, nextTargetSeqNum: 7 } })
    await close(first.wal)

    const second = openLog(dir) // Engine.replay folds nothing from these records and does not throw on them
    expect(second.engine.state.lastLsn).toBe(0)
    const reopened = new LogFixSessionStore({ venue: 'broker-a', log: second.log })
    expect(await reopened.load()).toEqual({ nextSenderSeqNum: 5, nextTargetSeqNum: 7 })
    expect(reopened.loadedFrom).toBe('log')
  })

  test('the newest record of the venue wins, even when its numbers are lower (a reset), across scan chunks', async () => {
    const { log } = openLog(tempDir())
    const a = new LogFixSessionStore({ venue: 'a', log })
    const b = new LogFixSessionStore({ venue: 'b', log })
    await a.save({ nextSenderSeqNum: 100, nextTargetSeqNum: 90 })
    await a.save({ nextSenderSeqNum: 2, nextTargetSeqNum: 2 }) // after ResetSeqNumFlag=Y
    for (let i = 1; i <= 9; i++) await b.save({ nextSenderSeqNum: i + 1, nextTargetSeqNum: i })
    for (const chunk of [1, 2, 3, 1_000]) {
      expect(await new LogFixSessionStore({ venue: 'a', log, scanChunkRecords: chunk }).load()).toEqual({ nextSenderSeqNum: 2, nextTargetSeqNum: 2 })
      expect(await new LogFixSessionStore({ venue: 'b', log, scanChunkRecords: chunk }).load()).toEqual({ nextSenderSeqNum: 10, nextTargetSeqNum: 9 })
    }
  })

  test('a malformed seq-nums record fails the load (the session then stops) instead of resetting the numbers', async () => {
    const { engine, log } = openLog(tempDir())
    await engine.appendRecords([{ type: FIX_SEQ_NUMS_RECORD.type, version: 1, payload: new TextEncoder().encode('{"venue":"a","nextSenderSeqNum":0}') }])
    await expect(new LogFixSessionStore({ venue: 'a', log }).load()).rejects.toThrow(/nextSenderSeqNum must be an integer in \[1, 2147483647\], got 0/)
  })

  test('numbers that cannot be right are refused before they are written', async () => {
    const { wal, log } = openLog(tempDir())
    const store = new LogFixSessionStore({ venue: 'a', log })
    await expect(store.save({ nextSenderSeqNum: 1.5, nextTargetSeqNum: 1 })).rejects.toThrow(/nextSenderSeqNum must be an integer/)
    expect(wal.lastLsn).toBe(0)
  })

  test('a log compacted past the last record: the snapshot section carries the numbers; a record after it wins', async () => {
    const { log } = openLog(tempDir())
    const before = new LogFixSessionStore({ venue: 'a', log })
    await before.save({ nextSenderSeqNum: 40, nextTargetSeqNum: 30 })
    const section = before.capture()
    if (!(section instanceof Uint8Array)) throw new Error('no save under way: the section is captured at once')
    expect(LogFixSessionStore.sectionName('a')).toBe('fix-session:a')
    // The segments holding the record are gone: the log now starts after it.
    const compacted: FixSeqNumLog = { ...log, bounds: () => ({ firstLsn: 2, lastLsn: 1 }) }
    const restored = new LogFixSessionStore({ venue: 'a', log: compacted, restoredSection: () => section })
    expect(await restored.load()).toEqual({ nextSenderSeqNum: 40, nextTargetSeqNum: 30 })
    expect(restored.loadedFrom).toBe('snapshot')
    await before.save({ nextSenderSeqNum: 41, nextTargetSeqNum: 31 })
    const both = new LogFixSessionStore({ venue: 'a', log, restoredSection: () => section })
    expect(await both.load()).toEqual({ nextSenderSeqNum: 41, nextTargetSeqNum: 31 })
    expect(() => new LogFixSessionStore({ venue: 'b', log, restoredSection: () => section }).load()).toThrow(/expected venue "b", got "a"/)
  })
})

const missing = executorMissing()

describe.skipIf(missing !== null)('LogFixSessionStore against the QuickFIX executor', () => {
  const SESSION = { beginString: 'FIX.4.4', compId: 'EXECLOG', peerCompId: 'EGRESSLOG' } as const
  let executor: QuickFixExecutor

  beforeAll(async () => {
    executor = new QuickFixExecutor()
    await executor.start([SESSION])
  })

  afterAll(async () => {
    await executor.dispose()
  })

  function venueOn(log: FixSeqNumLog, logs: FixLogLine[]): FixVenue {
    const venue = new FixVenue({
      venue: 'quickfix',
      requestTimeoutMs: 5_000,
      session: {
        beginString: SESSION.beginString,
        senderCompId: SESSION.peerCompId,
        targetCompId: SESSION.compId,
        host: '127.0.0.1',
        port: executor.port,
        store: new LogFixSessionStore({ venue: 'quickfix', log }),
        clock: new WallClock(),
        heartbeatIntervalSeconds: 30,
        resetOnLogon: 'never',
        reconnectDelayMsMin: 100,
        reconnectDelayMsMax: 1_000,
        log: (record) => logs.push(record),
      },
    })
    venue.start()
    return venue
  }

  test('a gateway restarted on the same log logs on with the next number: no reset, no gap, orders keep filling', async () => {
    const dir = tempDir()
    const order = (clientOrderId: string) => ({
      clientOrderId, account: 'ACC1', symbol: 'IBM', side: 'buy' as const, type: 'limit' as const, qty: 1_00000000n, price: 10_00000000n,
      tif: 'DAY' as const, postOnly: false, reduceOnly: false,
    })
    const first = openLog(dir)
    const firstLogs: FixLogLine[] = []
    const a = venueOn(first.log, firstLogs)
    expect(await a.whenActive(5_000)).toBe(true)
    for (let i = 0; i < 3; i++) expect((await a.place(order(`log-r1-${i}`))).kind).toBe('ok')
    await a.stop()
    const saved = a.session.seqNums
    await close(first.wal)
    expect(saved?.nextSenderSeqNum).toBeGreaterThan(4)

    const second = openLog(dir)
    const secondLogs: FixLogLine[] = []
    const b = venueOn(second.log, secondLogs)
    expect(await b.whenActive(5_000)).toBe(true)
    expect((await b.place(order('log-r2-0'))).kind).toBe('ok')
    expect(b.session.seqNums?.nextSenderSeqNum).toBeGreaterThan(saved?.nextSenderSeqNum ?? Infinity)
    expect(secondLogs.some((r) => r.event === 'fix.gap_detected' || r.event === 'fix.session_error')).toBe(false)
    expect(executor.log()).not.toContain('MsgSeqNum too low')
    // The second Logon carried the number after the first run's last one, without ResetSeqNumFlag.
    const logon = new RegExp(`35=A\\|49=${SESSION.peerCompId}\\|56=${SESSION.compId}\\|34=${saved?.nextSenderSeqNum}\\|[^\\n]*`)
    expect(executor.log()).toMatch(logon)
    expect(executor.log().match(logon)?.[0]).not.toContain('141=Y')
    await b.stop()
  })
})
