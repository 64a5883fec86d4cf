/**
 * An abandoned teardown runs no step twice (src/runtime/ha/teardown.ts onceEach). tearDownNodeWithin past its bound
 * abandons the node (abandonNode), which used to run the stop steps again from the start — the replicator stopped
 * and the sync closed a second time, the stuck gateway's stop begun again — and the stuck teardown, once its step
 * ended, cleared the timer and released the lease a second time. Found by the HA review (s33).
 */

import { expect, test } from 'bun:test'
import { onceEach, teardownBounds, tearDownNodeWithin, type NodeParts } from '../../../src/runtime/ha/teardown.ts'

type Counts = Record<keyof NodeParts, number>

/** Parts that count their calls, with a gateway stop that ends only when `gatewayStopped` resolves. */
function countingParts(gatewayStopped: Promise<void>): { parts: NodeParts; counts: Counts; order: string[] } {
  const counts: Counts = { stopReplicator: 0, closeSync: 0, stopGateway: 0, handTail: 0, clearTimer: 0, releaseLease: 0, releaseDataDir: 0 }
  const order: string[] = []
  const count = (name: keyof NodeParts): void => {
    counts[name] += 1
    order.push(name)
  }
  const parts: NodeParts = {
    stopReplicator: async () => count('stopReplicator'),
    closeSync: () => count('closeSync'),
    stopGateway: () => {
      count('stopGateway')
      return gatewayStopped
    },
    handTail: async () => count('handTail'),
    clearTimer: () => count('clearTimer'),
    releaseLease: () => count('releaseLease'),
    releaseDataDir: () => count('releaseDataDir'),
  }
  return { parts, counts, order }
}

test('a teardown abandoned at its stuck gateway stop runs every step exactly once, the lease released before the stuck step ends, and nothing again once it ends', async () => {
  const gatewayStopped = Promise.withResolvers<void>()
  const { parts, counts, order } = countingParts(gatewayStopped.promise)
  const lines: string[] = []
  const outcome = await tearDownNodeWithin(onceEach(parts), (line) => lines.push(line), teardownBounds({ teardownWaitMsMax: 50 })).then(
    () => 'resolved',
    (error: unknown) => (error as { code?: string; change?: string }).code + ' ' + (error as { change?: string }).change,
  )
  expect(outcome).toBe('STOP_TIMEOUT teardown (stopping the gateway)')
  await Bun.sleep(0)
  // The data dir's lock is kept while the stuck step may still touch the data dir.
  expect(counts).toEqual({ stopReplicator: 1, closeSync: 1, stopGateway: 1, handTail: 0, clearTimer: 1, releaseLease: 1, releaseDataDir: 0 })
  expect(order).toEqual(['stopReplicator', 'closeSync', 'stopGateway', 'clearTimer', 'releaseLease'])
  // The stuck stop ends at last: the teardown goes on (a node's hand-off of the tail does nothing once the lease is
  // released), finds the timer cleared and the lease released already, and lets the data dir go.
  gatewayStopped.resolve()
  await Bun.sleep(10)
  expect(counts).toEqual({ stopReplicator: 1, closeSync: 1, stopGateway: 1, handTail: 1, clearTimer: 1, releaseLease: 1, releaseDataDir: 1 })
  expect(lines.filter((line) => line.includes('failed'))).toEqual([])
})

test('a step that threw is not run again by the abandonment', async () => {
  const gatewayStopped = Promise.withResolvers<void>()
  const { parts, counts } = countingParts(gatewayStopped.promise)
  const failing: NodeParts = {
    ...parts,
    closeSync: () => {
      parts.closeSync()
      throw new Error('sync close failed (injected)')
    },
  }
  const lines: string[] = []
  await tearDownNodeWithin(onceEach(failing), (line) => lines.push(line), teardownBounds({ teardownWaitMsMax: 50 })).catch(() => {})
  gatewayStopped.resolve()
  await Bun.sleep(10)
  expect(counts.closeSync).toBe(1)
  expect(lines.filter((line) => line.includes('closing synchronous replication failed'))).toHaveLength(1)
})
