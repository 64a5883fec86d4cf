/**
 * Helpers for scripts and specs that start real processes on loopback: a free port, and polling until something is
 * ready. One definition, used by the e2e, smoke, benchmark and drill scripts and the process-level specs.
 */

import { createServer } from 'node:net'

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; the probe socket is closed again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface WaitOptions {
  intervalMs?: number
  /** Extra text for the time-out message (e.g. a child's last stderr lines). */
  context?: () => string
}

/**
 * Calls `probe` until it yields a value (not null or false; a rejected probe counts as not ready), or throws after
 * `timeoutMs` naming `what`.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | false>, options: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null)
    if (value !== null && value !== false) return value
    await Bun.sleep(options.intervalMs ?? 100)
  }
  const context = options.context?.() ?? ''
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${context === '' ? '' : `\n${context}`}`)
}
