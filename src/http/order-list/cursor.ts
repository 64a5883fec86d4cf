/**
 * The `GET /v1/orders` cursor: where a walk of the order list index (index-of-orders.ts) stopped, so that the next
 * page starts right after it even when the order it stopped at has retired since. The kernel deletes ended orders
 * from its Map an hour after they end (src/kernel/retention.ts), and the index with them: a cursor that was the order's
 * id found no position once the order was gone, and a client paging from the oldest orders while they retired had to
 * start again, and again.
 *
 * A cursor is `v1.<seal>.<orderId>`, opaque to clients:
 * - seal: one AES-128 block under a key drawn at random when this object is made (one per HTTP service, so per
 *   process): the entry's seq in the index, the index generation it belongs to, and 48 bits of a hash of the order's
 *   account. A seq says where an order stood after the order is gone. It is sealed because it counts every order the
 *   index ever held, of every account: two cursors' seqs in the clear would tell a trader how many orders other accounts
 *   placed in between. The seal is also what proves a position was handed out: a block that does not open under the
 *   key (made up, or sealed by another process) gives no position.
 * - orderId: the order the page stopped at (the last returned, or the last read), an order the reader may read.
 *
 * Reading one back:
 * - Its seal opens and names this generation: the walk goes on after that seq, whatever became of the order, for a
 *   reader who may read the order's account (the hash is checked against the reader's accounts); anyone else gets
 *   the answer an unknown cursor gets, so a cursor passed on tells nothing of orders the reader may not read.
 * - Its seal does not open (the gateway restarted or failed over since, or the index was rebuilt after losing track
 *   of the Map, and the seqs were numbered again): it is read as its order id, as an old cursor. While that order is
 *   held, the walk goes on right after it, exactly. Once it has retired, its place cannot be found again: the index is
 *   rebuilt from the Map alone, where the retired order left no trace; its acceptance time does not place it (several
 *   orders are accepted in one millisecond, and time may have gone back at a failover); and the log record that would
 *   place it is compacted away first for the oldest orders, the ones a long walk reaches. That case alone answers 410
 *   CURSOR_NOT_RETAINED, "start again", and only when the log shows the order as accepted for an account the reader may
 *   read (so a made-up cursor naming the reader's own retired order gets it too: it tells nothing the reader cannot
 *   read from the order itself). Any other order id answers 400 VALIDATION_FAILED like an unknown cursor, as before.
 *   (Until the log index has caught up after a start, that lookup answers 503 UNAVAILABLE with Retry-After, as every
 *   read of a retired order does.)
 * - An order id alone (the cursor before this format; what deployed clients hold): after that order while it is held
 *   and readable, 400 VALIDATION_FAILED otherwise, as before.
 * - Anything else (malformed, unknown) is read as an order id, which no order has: 400 VALIDATION_FAILED.
 *
 * Cost: one AES block and one hash per readable account of the reader, or one lookup in the index (O(log n)); a log
 * read only for a cursor from another process whose order is gone.
 */

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { assert } from '../../domain/assert.ts'
import { ApiError } from '../errors.ts'
import type { OrderEntry, OrderListIndex } from './index-of-orders.ts'

/** Who reads: every account, or these (the ones the reader may read). */
export interface CursorReader {
  readsEvery: boolean
  accounts: readonly string[]
}

/** The log's word on an order the kernel no longer holds: the account it was accepted for, or null (never accepted, or not retained). */
export type RetiredAccountOf = (orderId: string) => string | null

const FORMAT = 'v1'
const CURSOR_V1 = /^v1\.([A-Za-z0-9_-]{22})\.([\x21-\x7e]+)$/
const SEAL_TAG = 0xc1
const BLOCK_BYTES = 16
const GENERATION_MASK = 0xff_ffff
/** Seqs a seal holds (48 bits): a million orders a second for eight years. */
const SEQ_LIMIT = 2 ** 48
const ACCOUNT_HASH_BYTES = 6

interface Sealed {
  seq: number
  accountHash: Buffer
}

export class OrderCursors {
  private readonly index: OrderListIndex
  private readonly key: Buffer

  constructor(index: OrderListIndex) {
    this.index = index
    this.key = randomBytes(16)
  }

  /**
   * The cursor of a walk that stopped at `entry` (an entry of this index, read in this generation). One block, so no
   * mode or nonce is needed: the same position always seals the same, which tells only that it is the same position.
   */
  cursorOf(entry: OrderEntry): string {
    const block = Buffer.alloc(BLOCK_BYTES)
    block[0] = SEAL_TAG
    block.writeUIntBE(this.index.generation & GENERATION_MASK, 1, 3)
    assert(entry.seq < SEQ_LIMIT, () => `seq ${entry.seq} does not fit a cursor`)
    block.writeUIntBE(entry.seq, 4, 6)
    accountHash(entry.order.accountId).copy(block, 10)
    const cipher = createCipheriv('aes-128-ecb', this.key, null).setAutoPadding(false)
    const sealed = Buffer.concat([cipher.update(block), cipher.final()])
    return `${FORMAT}.${sealed.toString('base64url')}.${entry.order.orderId}`
  }

  /**
   * The seq a page after `cursor` starts after, for `reader`. Throws 400 VALIDATION_FAILED (path `cursor`) for a cursor
   * that names no position the reader may use, 410 CURSOR_NOT_RETAINED for one whose position was lost (see the header).
   */
  afterSeqOf(cursor: string, reader: CursorReader, retiredAccountOf: RetiredAccountOf): number {
    const parts = CURSOR_V1.exec(cursor)
    if (parts === null) return this.afterHeld(cursor, reader)
    const sealed = this.open(parts[1] as string)
    if (sealed !== null) {
      if (!readsHash(reader, sealed.accountHash)) throw unknownCursor()
      return sealed.seq
    }
    const orderId = parts[2] as string
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

  /** The sealed position, or null for a block this key did not seal in this generation. */
  private open(text: string): Sealed | null {
    const bytes = Buffer.from(text, 'base64url')
    if (bytes.length !== BLOCK_BYTES || bytes.toString('base64url') !== text) return null
    const decipher = createDecipheriv('aes-128-ecb', this.key, null).setAutoPadding(false)
    const block = Buffer.concat([decipher.update(bytes), decipher.final()])
    if (block[0] !== SEAL_TAG) return null
    if (block.readUIntBE(1, 3) !== (this.index.generation & GENERATION_MASK)) return null
    return { seq: block.readUIntBE(4, 6), accountHash: block.subarray(10) }
  }
}

function afterEntry(entry: OrderEntry, reader: CursorReader): number {
  if (!reads(reader, entry.order.accountId)) throw unknownCursor()
  return entry.seq
}

/** A cursor the reader could not have been handed answers like one that never was (no existence oracle). */
function unknownCursor(): ApiError {
  return new ApiError('VALIDATION_FAILED', 'cursor: no such position; start again without a cursor', {
    details: { issues: [{ path: 'cursor', message: 'unknown cursor' }] },
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
