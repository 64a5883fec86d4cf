/**
 * HA over HTTP: the replication stream a standby pulls (`GET /replication/stream?from_lsn=N&head=HEX`, raw WAL frames
 * in envelopes, see src/runtime/ha/envelope.ts), the chain hash at an LSN (`GET /replication/hash?lsn=N`, used to find
 * where a diverged standby forked), the standby's durable-LSN acknowledgement (`POST /replication/ack {lsn, epoch}`), the
 * leader's newest valid snapshot for a standby whose next LSN the leader has compacted away (`GET /replication/snapshot`:
 * the file's bytes, with its LSN, digest, the chain hash before its LSN and its seal when it has one in headers; see
 * ha/snapshot-recovery.ts), and the
 * guard on writes: 503 NOT_LEADER on any node not leading and, on a leader in synchronous mode, no 2xx before the
 * standby holds the write durably (STANDBY_UNAVAILABLE / REPLICATION_UNCONFIRMED otherwise, see src/runtime/ha/sync.ts).
 *
 * The replication routes sit outside /v1: they are authenticated by a shared secret between the nodes (bearer
 * token, compared in constant time), not by client JWTs, so a standby needs no signing key to follow its leader.
 */

import { matchesSecretDigest, secretDigest } from '../auth/secret-digest.ts'
import { closeSync, readFileSync } from 'node:fs'
import { Hono, type Context, type MiddlewareHandler, type Next } from 'hono'
import * as v from 'valibot'
import { fromHex, IN_SYNC_MEMBERS_MAX, NODE_ID_PATTERN, nodeIo, toHex, type Wal } from '../../../wal/index.ts'
import {
  LEADER_EPOCH_HEADER, LOG_READS_HEADER, SNAPSHOT_CONTENT_TYPE, SNAPSHOT_HEADERS, THIS_BUILDS_LOG_READS_TEXT, chainHashAt, replicationStream, standbyRefusal, streamRefusal,
} from '../../runtime/ha/index.ts'
import { checkSnapshotSeal, decodeSnapshot, SnapshotError, unverifiedVerdict, type SnapshotStore } from '../../runtime/snapshot/index.ts'
import { ApiError } from '../errors.ts'
import { NO_QUERY, queryOf, singleQuery } from '../query.ts'
import type { HaHttp, HaSyncHttp } from '../services.ts'
import { answeredByGateway } from './support.ts'

/**
 * What each replication query parameter must be. A bad or missing one is 400 VALIDATION_FAILED with the message
 * `<name> must be <rule>, got <value>` and no details, as these routes have always answered.
 */
const QUERY_RULES = {
  lsn: 'an integer ≥ 0 in decimal digits',
  from_lsn: 'an integer ≥ 1 in decimal digits',
  head: 'the 32-byte chain head as 64 lowercase hex digits',
} as const

type QueryName = keyof typeof QUERY_RULES

function mustBe(name: QueryName, input: unknown): string {
  return `${name} must be ${QUERY_RULES[name]}, got ${JSON.stringify(input ?? null)}`
}

/**
 * An integer written in decimal digits, no sign, no leading zero (as a standby writes it), safe and at least `min`.
 * Read with `Number()` alone, `""` and `-0` were LSN 0, and `0x10`, `1e3`, `12.0`, `+1`, `010` or ` 12 ` another
 * spelling of an LSN: an answer to a question the caller may not have asked.
 */
const DECIMAL_TEXT = /^(0|[1-9]\d{0,15})$/

function integerText(name: QueryName, min: number) {
  const message = (issue: v.BaseIssue<unknown>): string => mustBe(name, issue.input)
  return v.pipe(v.string(message), v.check((text) => DECIMAL_TEXT.test(text) && Number.isSafeInteger(Number(text)) && Number(text) >= min, message), v.transform(Number))
}

/**
 * A query object whose missing parameters get their own rule's message. A parameter not named here, or one given
 * twice, is 400 as on every route (src/http/query.ts singleQuery), before these rules are read.
 */
function replicationQuery<TEntries extends Partial<Record<QueryName, v.GenericSchema<string, unknown>>>>(entries: TEntries) {
  return v.object(entries, (issue) => mustBe(issue.path?.[0]?.key as QueryName, undefined))
}

/** GET /replication/hash. */
export const HASH_QUERY = replicationQuery({ lsn: integerText('lsn', 0) })

/** GET /replication/stream: the standby's next LSN and its chain head (the hash at from_lsn - 1). */
export const REPLICATION_STREAM_QUERY = replicationQuery({
  from_lsn: integerText('from_lsn', 1),
  head: v.pipe(v.string((issue) => mustBe('head', issue.input)), v.regex(/^[0-9a-f]{64}$/, (issue) => mustBe('head', issue.input)), v.transform(fromHex)),
})

/**
 * POST /replication/ack: the LSN through which the standby holds the log durably, the epoch of the leader whose
 * stream it came from (its x-egress-leader-epoch header), and the standby's node id (`--node-id`): the leader waits for
 * the nodes of its in-sync set by name (src/runtime/ha/in-sync.ts). Other keys are ignored. `epoch` is optional here
 * only so that a standby of a build older than it is told STANDBY_TOO_OLD rather than VALIDATION_FAILED; `node_id` is
 * optional so that a standby of a build before it keeps counting during a rolling upgrade — as one unnamed member of
 * the in-sync set, for all such standbys together (written into the lease before its acknowledgements count, like any
 * member).
 */
export const ACK_BODY_SCHEMA = v.object({
  lsn: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  epoch: v.exactOptional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
  node_id: v.exactOptional(v.pipe(v.string(), v.regex(NODE_ID_PATTERN))),
})

/** What GET /replication/stream answers with: envelopes of raw WAL frames (src/runtime/ha/envelope.ts). */
export const WAL_FRAMES_CONTENT_TYPE = 'application/vnd.egress.wal-frames'

/**
 * Replication transfers (streams, snapshot downloads) a leader serves at once when HaHttp.transfersMax is not set: a
 * standby holds one stream (and, recovering, one snapshot), `egress backup` one of each. Each stream wakes at every
 * commit and reads the log again, and a snapshot download holds the whole file: unbounded, a peer reconnecting in a
 * loop without closing its old streams (or any holder of the token) slowed every write of the leader in proportion,
 * and held memory without bound. Past it: 503 UNAVAILABLE with Retry-After, nothing held.
 */
export const REPLICATION_TRANSFERS_MAX = 8

/** The bytes of a snapshot download handed to the server per read. */
const SNAPSHOT_READ_BYTES = 1024 * 1024

/** The first problem with a value, as these routes have always reported it: the message alone, no details. */
function parseReplicationQuery<TSchema extends v.GenericSchema & { readonly entries: v.ObjectEntries }>(schema: TSchema, c: Context): v.InferOutput<TSchema> {
  const parsed = v.safeParse(schema, singleQuery(c, Object.keys(schema.entries)), { abortEarly: true })
  if (!parsed.success) throw new ApiError('VALIDATION_FAILED', parsed.issues[0].message)
  return parsed.output
}

const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export function requireLeaderForWrites(ha: HaHttp): MiddlewareHandler {
  return async function requireLeaderForWrites(c, next) {
    if (!WRITE_METHODS.has(c.req.method)) return next()
    if (!ha.isLeader()) {
      const leader = ha.leaderUrl()
      throw new ApiError('NOT_LEADER', leader === null ? 'this node is not the leader and no leader is known' : `this node is not the leader; send writes to ${leader}`, {
        details: { leader },
        headers: { 'Retry-After': '1' },
      })
    }
    if (ha.sync === undefined) return next()
    await replicatedWrite(c, next, ha.sync)
  }
}

/**
 * A write on a leader in synchronous mode (new risk — an order, a list, an amend — is refused by its route when the
 * policy says so, before anything is written and after a repeat is told apart: place-admission.ts standbyRefusal):
 * an answer that rests on the log is held until the standby acknowledges the log up to where it stood when the
 * write completed (the write's records are at or below that LSN). That is every success, and every answer the gateway
 * decided, a rejection too: a rejected order is logged under its key, and a refusal reads state the standby may not
 * hold yet, so a new leader could otherwise answer the same key differently. A wait that times out turns the answer
 * into REPLICATION_UNCONFIRMED carrying the original answer: the write is in this log, only the standby's copy is
 * unknown, so a retry with the same Idempotency-Key is safe and answers as the first did once the standby has it.
 * Answers no command decided (bad input, auth, shedding) wrote nothing and go at once.
 */
async function replicatedWrite(c: Context, next: Next, sync: HaSyncHttp): Promise<void> {
  await next()
  const status = c.res.status
  const succeeded = status >= 200 && status < 300
  if (!succeeded && !(status < 500 && answeredByGateway(c))) return
  const lsn = sync.leaderLastLsn()
  if ((await sync.wait(lsn)) !== 'timeout') return
  const answer: unknown = await c.res.clone().json().catch(() => null)
  const error = new ApiError('REPLICATION_UNCONFIRMED', `recorded on the leader up to LSN ${lsn}, but the standby did not confirm it in time; retry with the same Idempotency-Key`, {
    details: { lsn, answer },
    headers: { 'Retry-After': '1' },
  })
  c.res = undefined
  c.res = c.json(error.toBody(), error.status, error.headers)
}

export function replicationRoutes(ha: HaHttp, wal: () => Wal): Hono {
  const app = new Hono()
  const transfers = new TransferSlots(ha.transfersMax ?? REPLICATION_TRANSFERS_MAX)
  app.use('/replication/*', requireReplicationToken(ha.replicationToken))
  app.use('/replication/*', async function requireLeader(_c, next) {
    // Only the leader's log is the history to follow; a deposed or standby node must never be copied from.
    if (!ha.isLeader()) throw new ApiError('NOT_LEADER', 'replication is served by the leader only', { details: { leader: ha.leaderUrl() } })
    await next()
  })
  app.get('/replication/hash', (c) => {
    const { lsn } = parseReplicationQuery(HASH_QUERY, c)
    const hash = chainHashAt(wal(), lsn)
    if (hash === null) throw new ApiError('NOT_FOUND', `this log does not hold LSN ${lsn}`, { details: { first_lsn: wal().firstLsn, last_lsn: wal().lastLsn } })
    return c.json({ lsn, hash: toHex(hash), last_lsn: wal().lastLsn })
  })
  app.post('/replication/ack', async (c) => {
    queryOf(c, NO_QUERY)
    const body: unknown = await c.req.json().catch(() => null)
    if (!v.is(ACK_BODY_SCHEMA, body)) throw new ApiError('VALIDATION_FAILED', `body must be {"lsn": integer ≥ 0, "epoch": integer ≥ 1, "node_id": 1 to 128 characters, no control characters}, got ${JSON.stringify(body)?.slice(0, 300)}`)
    const leaderEpoch = wal().epoch
    // An LSN alone does not say whose log it is in: counted here, an acknowledgement of another term's log (records
    // that may differ from this log's at those LSNs) would confirm writes the standby does not hold. A standby that
    // names no epoch is of a build older than this check: upgrade standbys before their leader, as for the log reads.
    if (body.epoch === undefined) {
      throw new ApiError('STANDBY_TOO_OLD', `the acknowledgement names no epoch (a standby build older than this leader's): not counted; upgrade standbys before their leader`, { details: { leader_epoch: leaderEpoch } })
    }
    if (body.epoch !== leaderEpoch) {
      throw new ApiError('CONFLICT', `the acknowledgement is of the stream of epoch ${body.epoch}'s leader; this leader writes epoch ${leaderEpoch}: not counted`, { details: { epoch: body.epoch, leader_epoch: leaderEpoch } })
    }
    // An acknowledgement past this log's end holds nothing this leader wrote: counted, it would confirm every write up
    // to it before the standby had it (synchronous replication's 202s and venue calls alike).
    const lastLsn = wal().lastLsn
    if (body.lsn > lastLsn) {
      throw new ApiError('VALIDATION_FAILED', `lsn ${body.lsn} is beyond this log's last LSN ${lastLsn}`, { details: { lsn: body.lsn, last_lsn: lastLsn } })
    }
    // A standby under the leader's own node id (two hosts on one default `--node-id`, say both bound to 0.0.0.0:8080)
    // would pass as the lease's holder at a takeover, judged by the floor alone, and its acknowledgements would be
    // counted for a member that is the leader itself: refused, loudly, until the ids differ.
    if (body.node_id !== undefined && body.node_id === ha.nodeId) {
      throw new ApiError('CONFLICT', `the acknowledgement names node ${JSON.stringify(body.node_id)}, this leader's own node id: not counted; give each node its own --node-id`, {
        details: { node_id: body.node_id },
      })
    }
    if (ha.sync !== undefined && !ha.sync.acknowledge(body.lsn, body.epoch, body.node_id)) {
      throw new ApiError('CONFLICT', `the acknowledgement of ${body.node_id === undefined ? 'an unnamed standby' : `node ${JSON.stringify(body.node_id)}`} is not counted: this leader tracks at most ${IN_SYNC_MEMBERS_MAX} standbys`, {
        details: { node_id: body.node_id ?? null, standbys_max: IN_SYNC_MEMBERS_MAX },
      })
    }
    return c.body(null, 204)
  })
  app.get('/replication/snapshot', (c) => {
    queryOf(c, NO_QUERY)
    refuseUnreadingStandby(c)
    const store = ha.snapshots?.() ?? null
    if (store === null) throw new ApiError('NOT_FOUND', 'this leader keeps no snapshots')
    const served = newestServableSnapshot(store, wal())
    if (served === null) throw new ApiError('NOT_FOUND', 'this leader holds no snapshot that matches its log', { details: { first_lsn: wal().firstLsn } })
    const release = transfers.take(c.req.raw.signal)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= served.bytes.byteLength) {
          controller.close()
          release()
          return
        }
        const part = served.bytes.subarray(sent, sent + SNAPSHOT_READ_BYTES)
        sent += part.byteLength
        controller.enqueue(part)
      },
      cancel: release,
    }, { highWaterMark: 1 })
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': SNAPSHOT_CONTENT_TYPE,
        'Cache-Control': 'no-store',
        'Content-Length': String(served.bytes.byteLength),
        [SNAPSHOT_HEADERS.lsn]: String(served.lsn),
        [SNAPSHOT_HEADERS.digest]: served.digest,
        [SNAPSHOT_HEADERS.chainBefore]: toHex(served.chainBefore),
        ...(served.seal === null ? {} : { [SNAPSHOT_HEADERS.seal]: served.seal }),
      },
    })
  })
  app.get('/replication/stream', (c) => {
    const log = wal()
    const { from_lsn: fromLsn, head } = parseReplicationQuery(REPLICATION_STREAM_QUERY, c)
    refuseUnreadingStandby(c)
    const refusal = streamRefusal(log, fromLsn, head)
    if (refusal !== null) {
      const details = refusal.code === 'DIVERGED' ? { leader_last_lsn: refusal.leaderLastLsn } : { leader_first_lsn: refusal.leaderFirstLsn }
      return c.json({ error: { code: refusal.code, message: refusal.message, details } }, 409)
    }
    const release = transfers.take(c.req.raw.signal)
    const abort = new AbortController()
    const frames = replicationStream(log, { fromLsn, chunkBytesMax: ha.chunkBytesMax, heartbeatMs: ha.heartbeatMs, signal: abort.signal })
    c.req.raw.signal.addEventListener('abort', () => abort.abort())
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await frames.next()
          if (next.done === true) {
            controller.close()
            release()
          } else {
            controller.enqueue(next.value)
          }
        } catch (error) {
          release()
          controller.error(error)
        }
      },
      async cancel() {
        release()
        abort.abort()
        await frames.return(undefined)
      },
    }, { highWaterMark: 1 })
    return new Response(body, { status: 200, headers: { 'Content-Type': WAL_FRAMES_CONTENT_TYPE, 'Cache-Control': 'no-store', [LEADER_EPOCH_HEADER]: String(log.epoch) } })
  })
  return app
}

/**
 * The transfers under way, at most `max`: a slot is taken once a transfer is answered 200 and given back once its body
 * ends, fails, is cancelled, or its request is aborted (a client gone before the body began), whichever comes first.
 */
class TransferSlots {
  private open = 0

  constructor(private readonly max: number) {}

  /** A slot, or 503 UNAVAILABLE when every one is taken; returns its release (idempotent). */
  take(requestSignal: AbortSignal): () => void {
    if (this.open >= this.max) {
      throw new ApiError('UNAVAILABLE', `this leader serves at most ${this.max} replication transfers at once; retry later`, {
        headers: { 'Retry-After': '1' },
        details: { reason: 'too_many_replication_transfers', transfers_max: this.max },
      })
    }
    this.open++
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      this.open--
      requestSignal.removeEventListener('abort', release)
    }
    requestSignal.addEventListener('abort', release, { once: true })
    return release
  }
}

/**
 * A standby must say what its build reads (LOG_READS_HEADER), and read everything this leader writes, before it gets
 * a frame or a snapshot: 409 STANDBY_TOO_OLD otherwise, with what this leader writes in `details.leader_writes`.
 */
function refuseUnreadingStandby(c: Context): void {
  const refusal = standbyRefusal(c.req.header(LOG_READS_HEADER) ?? null)
  if (refusal !== null) throw new ApiError(refusal.code, refusal.message, { details: { leader_writes: THIS_BUILDS_LOG_READS_TEXT } })
}

/**
 * The newest snapshot whose file is whole (digest) and whose chain head is this log's at its LSN, read once (a prune
 * racing with the read only makes an older one, or none, the answer), with the chain hash just before its LSN — where
 * a standby's log will start — and its seal's JWS when it has one. One whose seal does not hold (read without a key:
 * its structure and claims) is passed over, as this node's own start refuses it (SEAL_INVALID): a copy would carry
 * the seal (and be refused) or drop it (and pass an altered state as merely unsealed).
 */
function newestServableSnapshot(store: SnapshotStore, log: Wal): { bytes: Uint8Array; lsn: number; digest: string; chainBefore: Uint8Array; seal: string | null } | null {
  for (const candidate of store.candidates()) {
    let bytes: Uint8Array
    try {
      bytes = readWithoutWaiting(candidate.path)
    } catch {
      continue
    }
    try {
      const content = decodeSnapshot(bytes)
      const head = chainHashAt(log, content.header.lsn)
      const before = chainHashAt(log, content.header.lsn - 1)
      if (content.header.lsn !== candidate.lsn || head === null || before === null || toHex(head) !== content.header.chainHead) continue
      const seal = store.readSeal(candidate)
      const verdict = unverifiedVerdict(seal)
      // Throws SnapshotError SEAL_INVALID (passed over below) for a seal that does not hold.
      checkSnapshotSeal(verdict === undefined ? undefined : new Map([[candidate.file, verdict]]), candidate.file, content)
      return { bytes, lsn: content.header.lsn, digest: content.digest, chainBefore: before, seal: seal.kind === 'present' ? seal.jws : null }
    } catch (error) {
      if (error instanceof SnapshotError) continue
      throw error
    }
  }
  return null
}

/**
 * The file's bytes, its open never waiting: a FIFO under a snapshot's name reads as empty (and is passed over as
 * damaged), where a blocking open waited for a writer and held the leader's event loop — intake, replication, its
 * lease — for as long.
 */
function readWithoutWaiting(path: string): Uint8Array {
  const fd = nodeIo.openRead(path) // O_NONBLOCK (wal/io.ts)
  try {
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

function requireReplicationToken(token: string): MiddlewareHandler {
  // Compared by digest (secret-digest.ts): a length check before a raw compare told the token's length by its timing.
  const expected = secretDigest(`Bearer ${token}`)
  return async function requireReplicationToken(c, next) {
    if (token.length === 0 || !matchesSecretDigest(c.req.header('Authorization') ?? '', expected)) {
      throw new ApiError('UNAUTHENTICATED', 'the replication routes need the nodes\' shared replication token')
    }
    await next()
  }
}
