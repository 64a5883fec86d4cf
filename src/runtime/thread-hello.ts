/**
 * The one message a worker thread sends at start (before any answer): what lowering its priority did
 * (thread-priority.ts). WorkerChannel keeps it while that thread lives, so /health can show whether the workers really
 * give way to the event loop. It carries the reserved id 0; requests use ids from 1.
 */

import { lowerThreadPriority, type PriorityOutcome } from './thread-priority.ts'

/** The id of the start message; no request may use it. */
export const THREAD_HELLO_ID = 0

export interface ThreadHello {
  id: typeof THREAD_HELLO_ID
  priority: PriorityOutcome
}

/** In a worker script, at start: lowers the thread's priority and tells the channel the outcome (also returned). */
export function announceThreadPriority(scope: { postMessage(message: ThreadHello): void }): PriorityOutcome {
  const priority = lowerThreadPriority()
  scope.postMessage({ id: THREAD_HELLO_ID, priority })
  return priority
}

/** A start message as it arrived from another thread: its priority outcome if well formed, else null. */
export function helloPriorityOf(message: unknown): PriorityOutcome | null {
  if (typeof message !== 'object' || message === null) return null
  const priority = (message as { priority?: unknown }).priority
  if (typeof priority !== 'object' || priority === null) return null
  const outcome = priority as Record<string, unknown>
  if (outcome.lowered === false && typeof outcome.reason === 'string') return { lowered: false, reason: outcome.reason }
  if (outcome.lowered !== true || typeof outcome.threadId !== 'number' || typeof outcome.nice !== 'number') return null
  if (outcome.policy !== 'idle' && outcome.policy !== 'normal') return null
  return {
    lowered: true,
    threadId: outcome.threadId,
    nice: outcome.nice,
    policy: outcome.policy,
    ...(typeof outcome.policyRefusal === 'string' ? { policyRefusal: outcome.policyRefusal } : {}),
  }
}
