/**
 * The start of a refusal's body, for an error message: at most `bytesMax` bytes are read, then the body is cancelled.
 * A node answering a replication read with an error (or anything else claiming to be one) could send a body of any
 * length; `response.text()` would hold all of it until the request's timeout (a backup's source is only as trusted
 * as the URL the operator, or a standby's NOT_LEADER answer, gave).
 */

/** Bytes of a refusal's body read by default: far above any error JSON this build answers. */
export const ANSWER_TEXT_BYTES_MAX = 16 * 1024

export async function answerText(response: Response, bytesMax: number = ANSWER_TEXT_BYTES_MAX): Promise<string> {
  const { bytes } = await bodyUpTo(response, bytesMax)
  return new TextDecoder().decode(bytes.subarray(0, bytesMax))
}

/**
 * A whole answer's body as text, or null when it is longer than `bytesMax` (at most `bytesMax` + 1 bytes are read, then
 * the body is cancelled): for an answer that is used, not only shown, where a cut one must not be taken for the whole.
 */
export async function answerTextWithin(response: Response, bytesMax: number = ANSWER_TEXT_BYTES_MAX): Promise<string | null> {
  const { bytes, whole } = await bodyUpTo(response, bytesMax)
  return whole ? new TextDecoder().decode(bytes) : null
}

/** The body's bytes until more than `bytesMax` were read (then cancelled), and whether that was all of it. */
async function bodyUpTo(response: Response, bytesMax: number): Promise<{ bytes: Uint8Array; whole: boolean }> {
  if (response.body === null) return { bytes: new Uint8Array(0), whole: true }
  const reader = response.body.getReader()
  const parts: Uint8Array[] = []
  let bytes = 0
  try {
    while (bytes <= bytesMax) {
      const { done, value } = await reader.read()
      if (done) return { bytes: Buffer.concat(parts), whole: true }
      parts.push(value)
      bytes += value.byteLength
    }
    return { bytes: Buffer.concat(parts), whole: false }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}
