/**
 * `egress serve`'s paper banner as a spec reads it from the child's stdout: up to its last line (the cancel command),
 * which it prints once the gateway listens.
 */

import type { Subprocess } from 'bun'

/** The banner's last line: read up to it, the banner is whole. */
export const BANNER_END = '/cancel -H'

/** Reads `child`'s stdout until the banner's last line (or the end of the output, or `deadlineMs`); what was read. */
export async function bannerOf(child: Subprocess<'ignore' | 'pipe' | 'inherit', 'pipe', 'ignore' | 'pipe' | 'inherit'>, deadlineMs = Number.POSITIVE_INFINITY): Promise<string> {
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let out = ''
  try {
    while (!out.includes(BANNER_END) && Date.now() < deadlineMs) {
      const { value, done } = await reader.read()
      if (done) break
      out += decoder.decode(value, { stream: true })
    }
  } finally {
    reader.releaseLock()
  }
  return out
}
