/**
 * The start of a refusal's body, for an error message: at most `bytesMax` bytes are read, then the body is cancelled.
 * A node answering a replication read with an error (or anything else claiming to be one) could send a body of any
 * length; `response.text()` would hold all of it until the request's timeout (a backup's source is only as trusted
 * as the URL the operator, or a standby's NOT_LEADER answer, gave).
 */

/** Bytes of a refusal's body read by default: far above any error JSON this build answers. */
export const ANSWER_TEXT_BYTES_MAX = 16 * 1024

export async function answerText(response: Response, bytesMax: number = ANSWER_TEXT_BYTES_MAX): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const parts: Uint8Array[] = []
  let bytes = 0
  try {
    while (bytes < bytesMax) {
      const { done, value } = await reader.read()
      if (done) break
      parts.push(value)
      bytes += value.byteLength
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  return new TextDecoder().decode(Buffer.concat(parts).subarray(0, bytesMax))
}

/**
 * A whole answer's body as text, or null when it is longer than `bytesMax` (at most `bytesMax` + 1 bytes are read, then
 * the body is cancelled): for an answer that is used, not only shown, where a cut one must not be taken for the whole.
 */
export async function answerTextWithin(response: Response, bytesMax: number = ANSWER_TEXT_BYTES_MAX): Promise<string | null> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const parts: Uint8Array[] = []
  let bytes = 0
  try {
    while (bytes <= bytesMax) {
      const { done, value } = await reader.read()
      if (done) return new TextDecoder().decode(Buffer.concat(parts))
      parts.push(value)
      bytes += value.byteLength
    }
    return null
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}
