/**
 * The gateway's worker threads (the back office's replay worker, the audit self-check's thread) as /health and
 * /metrics show them: whether each runs, at what priority it said it runs (src/runtime/thread-priority.ts), and how
 * long its oldest unanswered request has waited. Nothing times a worker's request out (worker-channel.ts): a hung
 * thread shows here as a wait that only grows.
 */

import { openBackOfficeOf } from '../../backoffice/index.ts'
import type { WorkerThreadStatus } from '../../runtime/worker-channel.ts'
import type { HealthBody } from '../openapi/health-schema.ts'
import type { Services } from '../services.ts'

/** Each worker thread's status; null for a duty this gateway does not run (no back office open, no audit). */
export function workerThreads(services: Services): { replay: WorkerThreadStatus | null; self_check: WorkerThreadStatus | null } {
  return { replay: openBackOfficeOf(services.gateway)?.replayThread ?? null, self_check: services.gateway.audit?.selfCheckThread ?? null }
}

/** /health's `threads`, typed as the schema's (openapi/health-schema.ts): tsc fails if the two part ways. */
export function workerThreadsJson(services: Services): HealthBody['threads'] {
  const { replay, self_check } = workerThreads(services)
  return { replay: replay === null ? null : statusJson(replay), self_check: self_check === null ? null : statusJson(self_check) }
}

type WorkerThreadJson = NonNullable<HealthBody['threads']['replay']>
type LoweredJson = Extract<NonNullable<WorkerThreadJson['priority']>, { lowered: true }>

function statusJson(status: WorkerThreadStatus): WorkerThreadJson {
  const { priority } = status
  return {
    running: status.running,
    priority:
      priority === null
        ? null
        : priority.lowered
          ? {
              lowered: true,
              nice: priority.nice,
              policy: priority.policy,
              ...(priority.policyRefusal === undefined ? {} : ({ policy_refusal: priority.policyRefusal } satisfies Pick<LoweredJson, 'policy_refusal'>)),
            }
          : { lowered: false, reason: priority.reason },
    answer_waiting_ms: Math.round(status.answerWaitingMs),
  }
}

/** egress_worker_answer_wait_seconds{thread}: how long each worker's oldest unanswered request has waited; only threads that exist now. */
export function registerWorkerThreadMetrics(services: Services): void {
  const registry = services.metrics.registry
  // Once per registry: an app built twice over the same services (tests do) adds the metrics once.
  registry.once('worker-threads', () => {
    const wait = registry.gauge({ name: 'egress_worker_answer_wait_seconds', help: "How long a worker thread's oldest unanswered request has waited (0: none waits); one that only grows is a hung thread.", labelNames: ['thread'] })
    // Sampled whole: a thread this gateway no longer has (its back office closed, its audit stopped) drops out of the
    // exposition instead of repeating its last wait for good.
    registry.beforeRender(() => {
      const present = Object.entries(workerThreads(services)).flatMap(([name, status]) => (status === null ? [] : [{ value: status.answerWaitingMs / 1000, labels: { thread: name } }]))
      wait.replaceAll(present)
    })
  })
}
