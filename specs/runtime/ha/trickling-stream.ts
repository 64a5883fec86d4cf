/** For the trickle specs (replicator-trickle-silence, backup-trickle-silence): a leader's stream that never completes an envelope. */

import { encodeEnvelope, ENVELOPE_HEADER_BYTES } from '../../../src/runtime/ha/index.ts'

/**
 * A stream answer that opens with a heartbeat (a whole envelope), then the header of an envelope of 1 000 bytes and
 * one byte of it every 20 ms, never completing it (150 bytes in 3 s). The trickle stops when the body is cancelled or
 * `signal` (the request's) aborts.
 */
export function tricklingStream(signal?: AbortSignal): Response {
  let timer: ReturnType<typeof setInterval> | null = null
  const end = (): void => {
    if (timer !== null) clearInterval(timer)
    timer = null
  }
  signal?.addEventListener('abort', end, { once: true })
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encodeEnvelope(new Uint8Array(0), 0))
      controller.enqueue(encodeEnvelope(new Uint8Array(1_000), 1).subarray(0, ENVELOPE_HEADER_BYTES))
      timer = setInterval(() => {
        try {
          controller.enqueue(new Uint8Array([0]))
        } catch {
          end()
        }
      }, 20)
    },
    cancel: end,
  })
  return new Response(body, { status: 200, headers: { 'Content-Type': 'application/vnd.egress.wal-frames', 'x-egress-leader-epoch': '1' } })
}
