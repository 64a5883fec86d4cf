/**
 * egress_worker_answer_wait_seconds{thread} is sampled whole at every scrape: a worker thread the gateway no longer
 * has (its back office closed, its audit duty gone) stops being exported, instead of repeating its last wait forever
 * (which reads as a thread hung at that wait).
 */

import { expect, test } from 'bun:test'
import { GatewayMetrics } from '../../src/http/gateway-metrics.ts'
import { registerWorkerThreadMetrics } from '../../src/http/routes/worker-threads.ts'
import type { Services } from '../../src/http/services.ts'
import type { WorkerThreadStatus } from '../../src/runtime/worker-channel.ts'
import { parseExposition } from './metrics/exposition.ts'

test('a worker thread that is gone drops out of egress_worker_answer_wait_seconds', () => {
  const metrics = new GatewayMetrics()
  // Only what workerThreads() reads: no back office is open for this gateway, its audit duty has one thread.
  const selfCheck: WorkerThreadStatus = { running: true, priority: null, answerWaitingMs: 2_500 }
  const gateway: { audit: { selfCheckThread: WorkerThreadStatus } | null } = { audit: { selfCheckThread: selfCheck } }
  registerWorkerThreadMetrics({ gateway, metrics } as unknown as Services)
  const waits = (): [string | undefined, number][] =>
    (parseExposition(metrics.render()).families.get('egress_worker_answer_wait_seconds')?.samples ?? []).map((sample) => [sample.labels.thread, sample.value])
  expect(waits()).toEqual([['self_check', 2.5]])
  gateway.audit = null
  expect(waits()).toEqual([])
})
