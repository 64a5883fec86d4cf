/**
 * An HA node seals `GET /v1/orders` cursors with a secret both nodes derive from the replication token
 * (src/config/ha-cursor-secret.ts, parseHaFlags), never with the token itself. A cursor is an offline test of the key it
 * is sealed with: sealed under the token (s36 as merged: `cursorSecret: token`), any client that may read orders could
 * check guesses of the replication token on its own hardware, as fast as SHA-256 and AES-GCM go, and the token serves
 * the whole log and confirms writes for the standby. Found by the s36 review.
 */

import { scryptSync } from 'node:crypto'
import { expect, test } from 'bun:test'
import { parseHaFlags, type HaFlags } from '../../src/cli/serve-ha-flags.ts'
import { GenerationalMap } from '../../src/domain/generational-map.ts'
import type { Order } from '../../src/domain/orders.ts'
import { ApiError } from '../../src/http/errors.ts'
import { OrderCursors } from '../../src/http/order-list/cursor.ts'
import { OrderListIndex } from '../../src/http/order-list/index-of-orders.ts'

const TOKEN = 'replication-token-of-the-pair'
const FLAGS: HaFlags = {
  role: 'auto', leaseDir: '/nonexistent/lease', nodeId: undefined, advertiseUrl: undefined, leaseTtlMs: undefined,
  clockSkewMs: undefined, venue: undefined, syncReplication: undefined, syncTimeoutMs: undefined,
}
const READER = { readsEvery: true, accounts: [] }

function errorCodeOf(run: () => unknown): string | null {
  try {
    run()
    return null
  } catch (error) {
    if (error instanceof ApiError) return error.code
    throw error
  }
}

test("a node's cursors open on the other node, not under the replication token itself", () => {
  const orders = new GenerationalMap<string, Order>(null, { generationSizeMin: 8, generationsTarget: 4 })
  orders.set('o1', { orderId: 'o1', accountId: 'a1', symbol: 'BTC-USD', status: 'AckedOpen', acceptedAtMs: 1_000 } as unknown as Order)
  const index = new OrderListIndex(orders)
  try {
    const leader = parseHaFlags(FLAGS, { EGRESS_REPLICATION_TOKEN: TOKEN })
    const standby = parseHaFlags(FLAGS, { EGRESS_REPLICATION_TOKEN: TOKEN })
    const cursor = new OrderCursors(index, leader.cursorSecret).cursorOf(index.entryOf('o1') as NonNullable<ReturnType<OrderListIndex['entryOf']>>)
    // The other node (a failover) knows it: the walk goes on after its order.
    expect(errorCodeOf(() => new OrderCursors(index, standby.cursorSecret).afterSeqOf(cursor, READER, () => null))).toBeNull()
    // A guess of the token, checked against the cursor alone, tells nothing: the seal does not open under the token.
    expect(errorCodeOf(() => new OrderCursors(index, TOKEN).afterSeqOf(cursor, READER, () => null))).toBe('VALIDATION_FAILED')
    expect(leader.cursorSecret).not.toBe(TOKEN)
  } finally {
    index.close()
  }
})

test('the secret is scrypt of the token (32 MiB a guess), and another token gives another secret', () => {
  const { cursorSecret } = parseHaFlags(FLAGS, { EGRESS_REPLICATION_TOKEN: TOKEN })
  const expected = scryptSync(TOKEN, 'egress order-list cursor secret, from the replication token', 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 })
  expect(cursorSecret).toBe(expected.toString('base64url'))
  expect(parseHaFlags(FLAGS, { EGRESS_REPLICATION_TOKEN: `${TOKEN}-2` }).cursorSecret).not.toBe(cursorSecret)
})
