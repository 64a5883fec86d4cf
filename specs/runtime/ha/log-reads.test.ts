/**
 * A leader refuses a standby whose build cannot read what it writes (src/runtime/ha/log-reads.ts): 409
 * STANDBY_TOO_OLD before a frame or a snapshot goes out, instead of a standby that follows until the first record
 * of a type it does not know and then stops.
 */

import { describe, expect, test } from 'bun:test'
import { FRAME_FORMAT_VERSION, Wal } from '../../../wal/index.ts'
import {
  LOG_READS_HEADER, THIS_BUILDS_LOG_READS_TEXT, standbyRefusal, standbyRequestHeaders, thisBuildsLogReads, type LogReads,
} from '../../../src/runtime/ha/index.ts'
import { formatLogReads, parseLogReads } from '../../../src/runtime/ha/log-reads.ts'
import { EVENT_CODES, EVENT_VERSIONS } from '../../../src/domain/events/registry.ts'
import { BACKOFFICE_RECORDS, BREAK_OPENED, RECONCILED } from '../../../src/backoffice/breaks.ts'
import { KERNEL_STATE_FORMAT_VERSION } from '../../../src/runtime/snapshot/index.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'
import { afterEach } from 'bun:test'
import { TOKEN, haHttp, replicationApp } from './support.ts'

afterEach(removeTempDirs)

/** This build's reads, changed by `change` (a copy). */
function readsWith(change: (events: Map<number, number>, snapshot: Record<string, number>) => void): LogReads {
  const own = thisBuildsLogReads()
  const events = new Map(own.events)
  const snapshot = { ...own.snapshot }
  change(events, snapshot)
  return { events, snapshot: snapshot as LogReads['snapshot'], frames: own.frames }
}

const NEWEST_CODE = Math.max(...Object.values(EVENT_CODES))

describe('what a build reads, as the header says it', () => {
  test('this build\'s text reads back as this build\'s reads, and a standby of this build may follow a leader of it', () => {
    const parsed = parseLogReads(THIS_BUILDS_LOG_READS_TEXT)
    expect('invalid' in parsed).toBe(false)
    expect(parsed).toEqual(thisBuildsLogReads())
    expect(THIS_BUILDS_LOG_READS_TEXT).toContain(`kernel-state=${KERNEL_STATE_FORMAT_VERSION}`)
    expect(standbyRefusal(THIS_BUILDS_LOG_READS_TEXT)).toBeNull()
  })

  test('a standby of a build before the append flag (its header names no frame format) is too old for this leader\'s frames', () => {
    const before = THIS_BUILDS_LOG_READS_TEXT.replace(/;frames=[0-9]+$/, '')
    expect(before).not.toBe(THIS_BUILDS_LOG_READS_TEXT)
    expect(parseLogReads(before)).toMatchObject({ frames: 1 })
    expect(standbyRefusal(before)).toEqual({ code: 'STANDBY_TOO_OLD', message: expect.stringContaining(`log frames v${FRAME_FORMAT_VERSION} (reads up to v1`) })
    // A leader of that build writes no flag: a standby of this build follows it.
    expect(standbyRefusal(THIS_BUILDS_LOG_READS_TEXT, { ...thisBuildsLogReads(), frames: 1 })).toBeNull()
  })

  test('a standby that reads more than the leader writes (a newer build: a later type, a later version) may follow', () => {
    const newer = readsWith((events, snapshot) => {
      events.set(NEWEST_CODE + 50, 1)
      events.set(200, EVENT_VERSIONS['order.accepted'] + 1)
      snapshot['kernel-state'] = KERNEL_STATE_FORMAT_VERSION + 1
    })
    expect(standbyRefusal(formatLogReads(newer))).toBeNull()
  })

  test('a standby without a type the leader writes, or with an older version of one, or an older snapshot part, is too old, and is told which', () => {
    const withoutNewest = standbyRefusal(formatLogReads(readsWith((events) => events.delete(NEWEST_CODE))))
    expect(withoutNewest?.code).toBe('STANDBY_TOO_OLD')
    expect(withoutNewest?.message).toContain(`type ${NEWEST_CODE}`)
    expect(withoutNewest?.message).toContain('upgrade standbys before their leader')
    const olderVersion = standbyRefusal(formatLogReads(readsWith((events) => events.set(200, 2))))
    expect(olderVersion).toEqual({ code: 'STANDBY_TOO_OLD', message: expect.stringContaining(`type 200 v${EVENT_VERSIONS['order.accepted']} (reads up to v2)`) })
    const olderState = standbyRefusal(formatLogReads(readsWith((_, snapshot) => void (snapshot['kernel-state'] = KERNEL_STATE_FORMAT_VERSION - 1))))
    expect(olderState?.message).toContain(`kernel-state v${KERNEL_STATE_FORMAT_VERSION} (reads up to v${KERNEL_STATE_FORMAT_VERSION - 1})`)
  })

  // The header a standby of b841b50 sends (the build before s43's auto-stop, held cap, self-trade prevention and
  // market-order protection), as that build formats it: kernel.configured up to 5, order.accepted up to 7, kernel-state
  // 17. A leader of this build writes kernel.configured 9 (the cap: 8; a policy's selfTrade: 9), order.accepted 10 (a
  // protection price) and kernel-state 20; the standby must be told to upgrade, not fed records it would misread.
  const B841B50_READS =
    'events@3=101-103,110,204-219,222-228,241-244,246-250,260-264,300-301,900;events@4=202-203,220-221;events@5=100;events@6=111,201;events@7=200;snapshot=1;kernel-state=17;backoffice=5'

  test('a standby of the build before the s43 formats (b841b50) is refused STANDBY_TOO_OLD, naming each record and part it cannot read', () => {
    const refusal = standbyRefusal(B841B50_READS)
    expect(refusal?.code).toBe('STANDBY_TOO_OLD')
    expect(refusal?.message).toContain(`type ${EVENT_CODES['kernel.configured']} v${EVENT_VERSIONS['kernel.configured']} (reads up to v5)`)
    // The message names the first 8 it cannot read, in code order after the snapshot parts and frames: since payload
    // version 12 (mode.changed, switch.changed, account.funded, account.flatten_requested at 12) order.accepted (200) is
    // among the ones counted, not named.
    expect(refusal?.message).toContain(`type ${EVENT_CODES['mode.changed']} v${EVENT_VERSIONS['mode.changed']} (reads up to v3)`)
    expect(refusal?.message).toMatch(/, and \d+ more; upgrade standbys before their leader$/)
    expect(refusal?.message).toContain(`kernel-state v${KERNEL_STATE_FORMAT_VERSION} (reads up to v17)`)
    expect(EVENT_VERSIONS['kernel.configured']).toBeGreaterThanOrEqual(9)
    expect(EVENT_VERSIONS['order.accepted']).toBeGreaterThanOrEqual(10)
    expect(KERNEL_STATE_FORMAT_VERSION).toBeGreaterThanOrEqual(20)
  })

  // The back office's records are the leader's too (a reconcile's breaks and runs): a standby that cannot read their
  // version stops at the first one (SchemaError). The header named the domain events only, so a leader writing
  // break_opened v2 let in a standby reading v1 of it.
  test('the back-office record versions are said and checked: a standby reading an older one is too old, and is told which', () => {
    const own = thisBuildsLogReads()
    for (const record of BACKOFFICE_RECORDS) expect([record.name, own.events.get(record.type)]).toEqual([record.name, record.version])
    expect(parseLogReads(THIS_BUILDS_LOG_READS_TEXT)).toEqual(own)
    expect(BREAK_OPENED.version).toBeGreaterThanOrEqual(2)
    const olderBreaks = standbyRefusal(formatLogReads(readsWith((events) => events.set(BREAK_OPENED.type, 1))))
    expect(olderBreaks).toEqual({ code: 'STANDBY_TOO_OLD', message: expect.stringContaining(`type ${BREAK_OPENED.type} v${BREAK_OPENED.version} (reads up to v1)`) })
    const olderRuns = standbyRefusal(formatLogReads(readsWith((events) => events.set(RECONCILED.type, RECONCILED.version - 1))))
    expect(olderRuns?.message).toContain(`type ${RECONCILED.type} v${RECONCILED.version} (reads up to v${RECONCILED.version - 1})`)
  })

  test('a standby of a build before the back-office entries (its header names none) is refused as for any type it does not name; a leader of that build follows this build\'s standby', () => {
    const before = formatLogReads(readsWith((events) => {
      for (const record of BACKOFFICE_RECORDS) events.delete(record.type)
    }))
    expect(before).not.toContain(String(BREAK_OPENED.type))
    const refusal = standbyRefusal(before)
    expect(refusal?.code).toBe('STANDBY_TOO_OLD')
    for (const record of BACKOFFICE_RECORDS) expect(refusal?.message).toContain(`type ${record.type}`)
    // That build's leader writes no back-office entry it would check: the codes this build names besides are ignored.
    expect(standbyRefusal(THIS_BUILDS_LOG_READS_TEXT, parseLogReads(before) as LogReads)).toBeNull()
  })

  test('no header is a build older than the check: too old; a malformed or oversized one is VALIDATION_FAILED', () => {
    expect(standbyRefusal(null)?.code).toBe('STANDBY_TOO_OLD')
    for (const bad of ['', 'events@3=200-100;snapshot=1;kernel-state=11;backoffice=5', 'events@3=70000;snapshot=1;kernel-state=11;backoffice=5', 'events@3=200;snapshot=1;kernel-state=11', 'events=200;snapshot=1', `events@3=${'1,'.repeat(3000)}1;snapshot=1;kernel-state=11;backoffice=5`]) {
      expect(standbyRefusal(bad)?.code).toBe('VALIDATION_FAILED')
    }
  })

  // Found by the s36 review: within the 4096 bytes, "0-65535," repeated named 31 million codes, each expanded into the
  // map one by one — seconds of the leader's event loop per request. A code is named once in what a build writes.
  test('a header naming more codes than exist is VALIDATION_FAILED, before its ranges are expanded', () => {
    const parts = `snapshot=${thisBuildsLogReads().snapshot.snapshot};kernel-state=${KERNEL_STATE_FORMAT_VERSION};backoffice=${thisBuildsLogReads().snapshot.backoffice};frames=${FRAME_FORMAT_VERSION}`
    const repeated = `events@999=${Array.from({ length: 480 }, () => '0-65535').join(',')};${parts}`
    expect(repeated.length).toBeLessThanOrEqual(4096)
    expect(standbyRefusal(repeated)).toEqual({ code: 'VALIDATION_FAILED', message: expect.stringContaining('names more than 65536 codes') })
    // Every code once, at a version past any: the most a header can name, and a standby that may follow.
    expect(standbyRefusal(`events@999=0-65535;${parts}`)).toBeNull()
  }, 60_000)
})

describe('the leader\'s replication routes', () => {
  const auth = (reads: string | null): Record<string, string> => (reads === null ? { Authorization: `Bearer ${TOKEN}` } : { Authorization: `Bearer ${TOKEN}`, [LOG_READS_HEADER]: reads })

  test('the stream refuses a standby that does not say what it reads or cannot read what the leader writes (409 STANDBY_TOO_OLD, nothing streamed); this build\'s standby gets frames', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    await leader.append([record('one')])
    const app = replicationApp(() => leader)
    const head = '0'.repeat(64)
    const tooOld = formatLogReads(readsWith((events) => events.delete(NEWEST_CODE)))
    const olderBreaks = formatLogReads(readsWith((events) => events.set(BREAK_OPENED.type, 1)))
    for (const reads of [null, tooOld, olderBreaks]) {
      const refused = await app.request(`/replication/stream?from_lsn=1&head=${head}`, { headers: auth(reads) })
      expect(refused.status).toBe(409)
      const body = (await refused.json()) as { error: { code: string; message: string; details: { leader_writes: string } } }
      expect(body.error.code).toBe('STANDBY_TOO_OLD')
      expect(body.error.details.leader_writes).toBe(THIS_BUILDS_LOG_READS_TEXT)
    }
    const malformed = await app.request(`/replication/stream?from_lsn=1&head=${head}`, { headers: auth('nonsense') })
    expect(malformed.status).toBe(400)
    const served = await app.request(`/replication/stream?from_lsn=1&head=${head}`, { headers: standbyRequestHeaders(TOKEN) })
    expect(served.status).toBe(200)
    await served.body?.cancel()
    await leader.close()
  })

  test('the snapshot route refuses the same way before it looks for a snapshot', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    const app = replicationApp(() => leader, haHttp({ snapshots: () => null }))
    const refused = await app.request('/replication/snapshot', { headers: auth(null) })
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('STANDBY_TOO_OLD')
    // This build's standby gets past the check: this leader keeps no snapshots.
    const answered = await app.request('/replication/snapshot', { headers: standbyRequestHeaders(TOKEN) })
    expect(answered.status).toBe(404)
    await leader.close()
  })
})
