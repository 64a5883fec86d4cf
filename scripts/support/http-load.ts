/**
 * bench:http's load generator: bench-load.ts's orders sent over loopback with fetch, each with an idempotency key of
 * its own, closed loop (a fixed number always outstanding) or open loop (at a fixed rate, latency from each request's
 * scheduled time).
 */

import { benchOrderBody } from './bench-load.ts'

/** Where requests go: the URL and the headers every request carries (the token, the content type). */
export interface Target {
  name: string
  url: string
  headers: Record<string, string>
}

let sequence = 0
function nextOrder(): { body: string; key: string } {
  const index = sequence++
  return { key: `b-${process.pid}-${index}`, body: benchOrderBody(index) }
}

async function send(target: Target): Promise<number> {
  const { body, key } = nextOrder()
  const res = await fetch(target.url, { method: 'POST', headers: { ...target.headers, 'Idempotency-Key': key }, body })
  await res.arrayBuffer()
  return res.status
}

/** Closed loop: `concurrency` requests always outstanding for `durationMs`. */
export async function maxRate(target: Target, durationMs: number, concurrency: number): Promise<{ okPerSec: number; answeredPerSec: number; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {}
  let ok = 0
  const endMs = performance.now() + durationMs
  const startMs = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < endMs) {
        const status = await send(target).catch(() => 0)
        statuses[status] = (statuses[status] ?? 0) + 1
        if (status === 202) ok++
      }
    }),
  )
  const seconds = (performance.now() - startMs) / 1000
  const answered = Object.entries(statuses).reduce((sum, [status, count]) => sum + (status === '0' ? 0 : count), 0)
  return { okPerSec: ok / seconds, answeredPerSec: answered / seconds, statuses }
}

/**
 * Open loop at `ratePerSec`: latency from each request's scheduled time to its answer (a stalled server cannot hide its
 * queueing: no coordinated omission). The loop sleeps only when more than 1 ms ahead (Bun.sleep works in whole
 * milliseconds), so a request may leave up to ~1 ms early; its latency then counts from when it left, never from a
 * time before it was sent.
 */
export async function fixedRate(target: Target, ratePerSec: number, durationMs: number): Promise<{ latenciesMs: number[]; answered: { sentMs: number; answeredMs: number }[]; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {}
  const latenciesMs: number[] = []
  const answered: { sentMs: number; answeredMs: number }[] = []
  const intervalMs = 1000 / ratePerSec
  const startMs = performance.now()
  const total = Math.floor((durationMs / 1000) * ratePerSec)
  const pending: Promise<void>[] = []
  for (let index = 0; index < total; index++) {
    const dueMs = startMs + index * intervalMs
    const waitMs = dueMs - performance.now()
    if (waitMs > 1) await Bun.sleep(waitMs)
    // From the due time when the request leaves late (a stalled loop or server cannot hide its queueing), from when it
    // left when early: the loop sends up to 1 ms ahead (Bun.sleep works in whole ms), and a due time still ahead would
    // take that much off the request's latency.
    const fromMs = Math.min(dueMs, performance.now())
    pending.push(
      send(target)
        .catch(() => 0)
        .then((status) => {
          statuses[status] = (statuses[status] ?? 0) + 1
          if (status !== 202) return
          const answeredMs = performance.now()
          latenciesMs.push(answeredMs - fromMs)
          answered.push({ sentMs: fromMs, answeredMs })
        }),
    )
  }
  await Promise.all(pending)
  return { latenciesMs, answered, statuses }
}
