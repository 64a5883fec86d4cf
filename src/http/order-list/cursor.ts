/**
 * The `GET /v1/orders` cursor: where a walk of the order list index (index-of-orders.ts) stopped, so that the next
 * page starts right after it even when the order it stopped at has retired since. The kernel deletes ended orders
 * from its Map an hour after they end (src/kernel/retention.ts), and the index with them: a cursor that was the order's
 * id found no position once the order was gone, and a client paging from the oldest orders while they retired had to
 * start again, and again.
 *
 * A cursor is `v2.<seal>.<orderId>`, opaque to clients:
 * - seal: AES-256-GCM under a key derived from the gateway's cursor secret (`sealSecret`: <dataDir>/auth/cursor.secret
 *   on a single node, a secret derived from the replication token with scrypt on an HA pair — never the token itself, of
 *   which each cursor would be an offline test: config/ha-cursor-secret.ts — so it is the same after a restart and a
 *   failover), with the order id as
 *   associated data. It holds the entry's seq in the index, the index generation and the id of the object
 *   that sealed it (random per process and per rebuilt HTTP service: a seq is a position only there), and 48 bits of a
 *   hash of the order's account. A seq says where an order stood after the order is gone. It is encrypted because it
 *   counts every order the index ever held, of every account: two cursors' seqs in the clear would tell a trader how
 *   many orders other accounts placed in between. The seal is also what proves a cursor was handed out by this
 *   gateway, for this order id: one that does not verify (made up, altered, another order id spliced in) is refused.
 *   Its nonce is derived from what it seals, so the same position always seals the same.
 * - orderId: the order the page stopped at (the last returned, or the last read), an order the reader may read.
 *
 * Reading one back:
 * - Its seal does not verify: 400 VALIDATION_FAILED, as an unknown cursor (path `query.cursor`). It was not handed out here.
 * - It verifies and names this object and this generation: the walk goes on after that seq, whatever became of the
 *   order, for a reader who may read the order's account (the hash is checked against the reader's accounts); anyone
 *   else gets the answer an unknown cursor gets, so a cursor passed on tells nothing of orders the reader may not read.
 * - It verifies but was sealed before a restart, a failover, or a rebuild of the index (the seqs were numbered
 *   again): it is read as its order id. While that order is held, the walk goes on right after it, exactly. Once it
 *   has retired, its place cannot be found again: the index is rebuilt from the Map alone, where the retired order
 *   left no trace; its acceptance time does not place it (several orders are accepted in one millisecond, and time may
 *   have gone back at a failover); and the log record that would place it is compacted away first for the oldest
 *   orders, the ones a long walk reaches. That case alone answers 410 CURSOR_NOT_RETAINED, "start again", and only
 *   when the log shows the order as accepted for an account the reader may read; otherwise 400 as an unknown cursor.
 *   (Until the log index has caught up after a start, that lookup answers 503 UNAVAILABLE with Retry-After, as every
 *   read of a retired order does.)
 * - `v1.<block>.<orderId>` (the format before, sealed under a key that lived as long as its process, which no seal
 *   can be checked against now) and an order id alone (the format before that): read as the order id — after that
 *   order while it is held and readable, 400 VALIDATION_FAILED otherwise. Never 410: nothing proves such a cursor was
 *   handed out, and a made-up one naming the reader's own retired order answered 410 where it should answer 400.
 * - Anything else (malformed, unknown) is read as an order id, which no order has: 400 VALIDATION_FAILED.
 *
 * Cost: one AES-GCM open and one hash per readable account of the reader, or one lookup in the index (O(log n)); a
 * log read only for a verified cursor from before a restart whose order is gone.
 */

import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { assert } from '../../domain/assert.ts'
import { ApiError } from '../errors.ts'
import { queryPath } from '../query.ts'
import type { OrderEntry, OrderListIndex } from './index-of-orders.ts'

/** Who reads: every account, or these (the ones the reader may read). */
export interface CursorReader {
  readsEvery: boolean
  accounts: readonly string[]
}

/** The log's word on an order the kernel no longer holds: the account it was accepted for, or null (never accepted, or not retained). */
export type RetiredAccountOf = (orderId: string) => string | null

const FORMAT = 'v2'
/** 52 bytes of seal (nonce, sealed position, tag) are 70 base64url characters. */
const CURSOR_V2 = /^v2\.([A-Za-z0-9_-]{70})\.([\x21-\x7e]+)$/
const CURSOR_V1 = /^v1\.([A-Za-z0-9_-]{22})\.([\x21-\x7e]+)$/
const NONCE_BYTES = 12
const TAG_BYTES = 16
const SEALER_BYTES = 8
/** Sealed: sealer id (8), generation (4), seq (6), account hash (6). */
const POSITION_BYTES = SEALER_BYTES + 4 + 6 + 6
const SEAL_BYTES = NONCE_BYTES + POSITION_BYTES + TAG_BYTES
/** Seqs a seal holds (48 bits): a million orders a second for eight years. */
const SEQ_LIMIT = 2 ** 48
const GENERATION_LIMIT = 2 ** 32
const ACCOUNT_HASH_BYTES = 6

interface Opened {
  /** Sealed by this object, in the index generation it is now. */
  current: boolean
  seq: number
  accountHash: Buffer
}

export class OrderCursors {
  private readonly index: OrderListIndex
  private readonly cipherKey: Buffer
  private readonly nonceKey: Buffer
  /** Which object sealed a cursor: a seq is a position only in the index it was read from. */
  private readonly sealer: Buffer

  /**
   * `sealSecret`: the gateway's cursor secret, the same across restarts and on both nodes of an HA pair (see the
   * header). Two keys are derived from it, one for the cipher and one for the nonces.
   */
  constructor(index: OrderListIndex, sealSecret: string) {
    this.index = index
    this.cipherKey = createHash('sha256').update('egress order-list cursor key\0').update(sealSecret).digest()
    this.nonceKey = createHash('sha256').update('egress order-list cursor nonce\0').update(sealSecret).digest()
    this.sealer = randomBytes(SEALER_BYTES)
  }

  /** The cursor of a walk that stopped at `entry` (an entry of this index, read in this generation). */
  cursorOf(entry: OrderEntry): string {
    const position = Buffer.alloc(POSITION_BYTES)
    this.sealer.copy(position, 0)
    assert(this.index.generation < GENERATION_LIMIT, () => `generation ${this.index.generation} does not fit a cursor`)
    position.writeUIntBE(this.index.generation, SEALER_BYTES, 4)
    assert(entry.seq < SEQ_LIMIT, () => `seq ${entry.seq} does not fit a cursor`)
    position.writeUIntBE(entry.seq, SEALER_BYTES + 4, 6)
    accountHash(entry.order.accountId).copy(position, SEALER_BYTES + 10)
    const orderId = entry.order.orderId
    // A nonce derived from what is sealed (and the order id it is bound to): the same position seals the same, and two
    // different ones never share a nonce.
    const nonce = createHmac('sha256', this.nonceKey).update(position).update(orderId).digest().subarray(0, NONCE_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.cipherKey, nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(Buffer.from(orderId))
    const sealed = Buffer.concat([nonce, cipher.update(position), cipher.final(), cipher.getAuthTag()])
    return `${FORMAT}.${sealed.toString('base64url')}.${orderId}`
  }

  /**
   * The seq a page after `cursor` starts after, for `reader`. Throws 400 VALIDATION_FAILED (path `query.cursor`) for a cursor
   * that names no position the reader may use, 410 CURSOR_NOT_RETAINED for a genuine one whose position was lost (see
   * the header).
   */
  afterSeqOf(cursor: string, reader: CursorReader, retiredAccountOf: RetiredAccountOf): number {
    const sealedParts = CURSOR_V2.exec(cursor)
    if (sealedParts === null) {
      // The formats before: nothing proves them handed out, so they go on only from an order held and readable.
      const oldParts = CURSOR_V1.exec(cursor)
      return this.afterHeld(oldParts === null ? cursor : (oldParts[2] as string), reader)
    }
    const orderId = sealedParts[2] as string
    const opened = this.open(sealedParts[1] as string, orderId)
    if (opened === null) throw unknownCursor()
    if (opened.current) {
      if (!readsHash(reader, opened.accountHash)) throw unknownCursor()
      return opened.seq
    }
    const entry = this.index.entryOf(orderId)
    if (entry !== undefined) return afterEntry(entry, reader)
    const accountId = retiredAccountOf(orderId)
    if (accountId === null || !reads(reader, accountId)) throw unknownCursor()
    throw new ApiError('CURSOR_NOT_RETAINED', `cursor: the gateway restarted (or rebuilt its order list) since this cursor was handed out, and order ${orderId} has retired since, so where it stood is not known; start again without a cursor`, {
      details: { order_id: orderId },
    })
  }

  /** After `orderId` while the kernel holds it and the reader may read it. */
  private afterHeld(orderId: string, reader: CursorReader): number {
    const entry = this.index.entryOf(orderId)
    if (entry === undefined) throw unknownCursor()
    return afterEntry(entry, reader)
  }

  /** The sealed position, or null for a seal that does not verify under this gateway's key for `orderId`. */
  private open(text: string, orderId: string): Opened | null {
    const bytes = Buffer.from(text, 'base64url')
    if (bytes.length !== SEAL_BYTES || bytes.toString('base64url') !== text) return null
    const decipher = createDecipheriv('aes-256-gcm', this.cipherKey, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(orderId))
    decipher.setAuthTag(bytes.subarray(SEAL_BYTES - TAG_BYTES))
    let position: Buffer
    try {
      position = Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, SEAL_BYTES - TAG_BYTES)), decipher.final()])
    } catch {
      // The tag does not verify: not sealed by this gateway, or not for this order id.
      return null
    }
    const current = position.subarray(0, SEALER_BYTES).equals(this.sealer) && position.readUIntBE(SEALER_BYTES, 4) === this.index.generation
    return { current, seq: position.readUIntBE(SEALER_BYTES + 4, 6), accountHash: position.subarray(SEALER_BYTES + 10) }
  }
}

function afterEntry(entry: OrderEntry, reader: CursorReader): number {
  if (!reads(reader, entry.order.accountId)) throw unknownCursor()
  return entry.seq
}

/** A cursor the reader could not have been handed answers like one that never was (no existence oracle). */
function unknownCursor(): ApiError {
  return new ApiError('VALIDATION_FAILED', 'query.cursor: no such position; start again without a cursor', {
    details: { issues: [{ path: queryPath('cursor'), message: 'unknown cursor' }] },
  })
}

function reads(reader: CursorReader, accountId: string): boolean {
  return reader.readsEvery || reader.accounts.includes(accountId)
}

function readsHash(reader: CursorReader, hash: Buffer): boolean {
  return reader.readsEvery || reader.accounts.some((accountId) => accountHash(accountId).equals(hash))
}

function accountHash(accountId: string): Buffer {
  return createHash('sha256').update(accountId).digest().subarray(0, ACCOUNT_HASH_BYTES)
}
