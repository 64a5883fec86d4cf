/**
 * What a build can read of what a leader writes, told by a standby when it asks for the stream or a snapshot, so that
 * a leader upgraded before its standby refuses it at once (409 STANDBY_TOO_OLD) instead of streaming records it cannot
 * read. Without the check the standby follows until the first record of a type its build does not know, then stops
 * (SchemaError) — possibly hours after the upgrade, and under synchronous replication every write fails from then on.
 *
 * The contract it rests on is the registry's (src/domain/events/registry.ts): a code is never reused, and a payload
 * whose shape changes takes a new version, so "reads code C up to version V" is all a reader needs to say. A build
 * writes each type at its current version and reads every version up to it. The snapshot's parts are versioned the
 * same way: the file, the kernel state and the back office's section, each read up to this build's own.
 *
 * The log's frames have a format version too (wal/frame.ts FRAME_FORMAT_VERSION): 2 since the append flag, whose
 * frames a build before it would take for records of versions it does not know. That build does not name it: read as 1.
 *
 * The header (`x-egress-log-reads`), at most LOG_READS_TEXT_BYTES_MAX bytes:
 *   `events@3=100-103,110-111,200-228;snapshot=1;kernel-state=11;backoffice=5;frames=2`
 * one `events@V=` group per version V, listing as code ranges the types read up to V. A request without it comes from
 * a build older than the check, which cannot say what it reads: it is refused too, as "upgrade standbys first" asks.
 *
 * The back office's records (0xB001–0xB003, src/backoffice/breaks.ts) are named among the types as the domain events
 * are, with their own versions (`events@2=45057,45059`): a leader writes them too, and a standby that cannot read one
 * stops at it (SchemaError). A build before they were named does not name them: read as for any type a standby does not
 * name, it is refused (upgrade standbys first). A leader of that build ignores the codes it does not write.
 */

import { BACKOFFICE_RECORDS } from '../../backoffice/breaks.ts'
import { BACKOFFICE_SECTION_VERSION } from '../../backoffice/section.ts'
import { EVENT_CODES, EVENT_VERSIONS } from '../../domain/events/registry.ts'
import type { EventType } from '../../domain/events/types.ts'
import { KERNEL_STATE_FORMAT_VERSION } from '../snapshot/state-codec.ts'
import { SNAPSHOT_FORMAT_VERSION } from '../snapshot/file.ts'
import { FRAME_FORMAT_VERSION } from '../../../wal/index.ts'

export const LOG_READS_HEADER = 'x-egress-log-reads'
/** Far above this build's text (about 150 bytes): room for many more types, not for an unbounded header. */
export const LOG_READS_TEXT_BYTES_MAX = 4096

/** The snapshot parts a standby reads, by name, with the newest version of each it reads. */
const SNAPSHOT_PARTS = ['snapshot', 'kernel-state', 'backoffice'] as const
type SnapshotPart = (typeof SNAPSHOT_PARTS)[number]
/** The part naming the log's frame format (absent from a build before it: format 1). */
const FRAMES_PART = 'frames'

export interface LogReads {
  /** Record type code (domain events and back-office records) → the newest schema version read (every older one too). */
  events: ReadonlyMap<number, number>
  snapshot: Readonly<Record<SnapshotPart, number>>
  /** The newest frame format read (1 when not named: a build before the append flag). */
  frames: number
}

/** What this build reads, which is also what it writes: each type at its current version, each snapshot part at its own. */
export function thisBuildsLogReads(): LogReads {
  const events = new Map<number, number>()
  for (const [name, code] of Object.entries(EVENT_CODES) as [EventType, number][]) events.set(code, EVENT_VERSIONS[name])
  for (const record of BACKOFFICE_RECORDS) events.set(record.type, record.version)
  return {
    events,
    snapshot: { snapshot: SNAPSHOT_FORMAT_VERSION, 'kernel-state': KERNEL_STATE_FORMAT_VERSION, backoffice: BACKOFFICE_SECTION_VERSION },
    frames: FRAME_FORMAT_VERSION,
  }
}

export function formatLogReads(reads: LogReads): string {
  const codesByVersion = new Map<number, number[]>()
  for (const [code, version] of reads.events) {
    const codes = codesByVersion.get(version) ?? []
    codes.push(code)
    codesByVersion.set(version, codes)
  }
  const groups = [...codesByVersion].sort(([a], [b]) => a - b).map(([version, codes]) => `events@${version}=${rangesText(codes)}`)
  return [...groups, ...SNAPSHOT_PARTS.map((part) => `${part}=${reads.snapshot[part]}`), `${FRAMES_PART}=${reads.frames}`].join(';')
}

function rangesText(codes: number[]): string {
  const sorted = [...codes].sort((a, b) => a - b)
  const ranges: string[] = []
  for (let index = 0; index < sorted.length; ) {
    const first = sorted[index] as number
    let last = first
    while (sorted[index + 1] === last + 1) last = sorted[++index] as number
    ranges.push(first === last ? String(first) : `${first}-${last}`)
    index++
  }
  return ranges.join(',')
}

const GROUP = /^events@([1-9][0-9]{0,2})=([0-9]{1,5}(?:-[0-9]{1,5})?(?:,[0-9]{1,5}(?:-[0-9]{1,5})?)*)$/
const PART = /^([a-z-]+)=([1-9][0-9]{0,5})$/
const CODE_MAX = 0xffff

/** The header's value read back, or a message saying what is wrong with it. Unknown snapshot parts are ignored. */
export function parseLogReads(text: string): LogReads | { invalid: string } {
  if (text.length > LOG_READS_TEXT_BYTES_MAX) return { invalid: `${LOG_READS_HEADER} is ${text.length} bytes, at most ${LOG_READS_TEXT_BYTES_MAX}` }
  const events = new Map<number, number>()
  const snapshot: Partial<Record<SnapshotPart, number>> = {}
  let frames = 1
  // Codes the ranges name, counted before they are expanded: the text this build writes names each code once, so at
  // most CODE_MAX + 1 in all. Unbounded, 4096 bytes of "0-65535," repeated named 33 million codes, seconds of the
  // leader's event loop per request.
  let codesNamed = 0
  for (const item of text.split(';')) {
    const group = GROUP.exec(item)
    if (group !== null) {
      const version = Number(group[1])
      for (const range of (group[2] as string).split(',')) {
        const [firstText, lastText] = range.split('-')
        const first = Number(firstText)
        const last = lastText === undefined ? first : Number(lastText)
        if (last < first || last > CODE_MAX) return { invalid: `${LOG_READS_HEADER}: code range ${range} is not within 0..${CODE_MAX} in order` }
        codesNamed += last - first + 1
        if (codesNamed > CODE_MAX + 1) return { invalid: `${LOG_READS_HEADER} names more than ${CODE_MAX + 1} codes: a code is named once` }
        for (let code = first; code <= last; code++) events.set(code, Math.max(version, events.get(code) ?? 0))
      }
      continue
    }
    const part = PART.exec(item)
    if (part === null) return { invalid: `${LOG_READS_HEADER}: ${JSON.stringify(item.slice(0, 80))} is neither events@<version>=<codes> nor <part>=<version>` }
    if ((SNAPSHOT_PARTS as readonly string[]).includes(part[1] as string)) snapshot[part[1] as SnapshotPart] = Number(part[2])
    else if (part[1] === FRAMES_PART) frames = Number(part[2])
  }
  for (const name of SNAPSHOT_PARTS) if (snapshot[name] === undefined) return { invalid: `${LOG_READS_HEADER} does not say which ${name} version it reads` }
  return { events, snapshot: snapshot as Record<SnapshotPart, number>, frames }
}

/**
 * Why a standby that reads `standby` cannot follow a leader that writes `leader`, or null when it can: every type the
 * leader writes must be read at its version, and every snapshot part at the version the leader writes it in.
 */
export function unreadableByStandby(standby: LogReads, leader: LogReads): string | null {
  // The snapshot parts and frames first: they are few, and the list shown is cut after 8 (record types are many).
  const missing: string[] = []
  for (const part of SNAPSHOT_PARTS) {
    if (standby.snapshot[part] < leader.snapshot[part]) missing.push(`${part} v${leader.snapshot[part]} (reads up to v${standby.snapshot[part]})`)
  }
  if (standby.frames < leader.frames) missing.push(`log frames v${leader.frames} (reads up to v${standby.frames}: not the append flag of wal/frame.ts)`)
  for (const [code, version] of leader.events) {
    const read = standby.events.get(code)
    if (read === undefined || read < version) missing.push(read === undefined ? `type ${code}` : `type ${code} v${version} (reads up to v${read})`)
  }
  if (missing.length === 0) return null
  const shown = missing.length > 8 ? [...missing.slice(0, 8), `and ${missing.length - 8} more`] : missing
  return `the standby's build cannot read what this leader writes: ${shown.join(', ')}; upgrade standbys before their leader`
}

const THIS_BUILD = thisBuildsLogReads()

/**
 * The refusal a leader gives a standby that sent `header` (null: absent), or null when it may follow: VALIDATION_FAILED
 * for a header that does not parse, STANDBY_TOO_OLD for a build that cannot read what this one writes (or does not say).
 */
export function standbyRefusal(header: string | null, leader: LogReads = THIS_BUILD): { code: 'VALIDATION_FAILED' | 'STANDBY_TOO_OLD'; message: string } | null {
  if (header === null) {
    return { code: 'STANDBY_TOO_OLD', message: `the standby did not say what it reads (no ${LOG_READS_HEADER} header): its build is older than this leader's; upgrade standbys before their leader` }
  }
  const standby = parseLogReads(header)
  if ('invalid' in standby) return { code: 'VALIDATION_FAILED', message: standby.invalid }
  const unreadable = unreadableByStandby(standby, leader)
  return unreadable === null ? null : { code: 'STANDBY_TOO_OLD', message: unreadable }
}

/** The header a standby of this build sends with every stream and snapshot request. */
export const THIS_BUILDS_LOG_READS_TEXT = formatLogReads(THIS_BUILD)

/** The headers of a standby's stream and snapshot requests: the replication token and what this build reads. */
export function standbyRequestHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, [LOG_READS_HEADER]: THIS_BUILDS_LOG_READS_TEXT }
}
