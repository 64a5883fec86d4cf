/**
 * A child process's output read line by line, as it comes: what the bench and the drills that watch a child use.
 */

/** Calls `onLine` with each line of `stream` (without its newline) until it ends; a last line without one too. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  let pending = ''
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true })
    let end = pending.indexOf('\n')
    while (end >= 0) {
      onLine(pending.slice(0, end))
      pending = pending.slice(end + 1)
      end = pending.indexOf('\n')
    }
  }
  pending += decoder.decode()
  if (pending.length > 0) onLine(pending)
}
