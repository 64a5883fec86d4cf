/**
 * One kind of subscriber to the JSONL client's news (reports, read-backs wanted): a subscriber that throws is logged
 * and the others, and the rest of the chunk's lines, still run.
 */
export class Subscribers<A extends unknown[]> {
  private readonly handlers = new Set<(...args: A) => void>()
  private readonly what: string
  private readonly log: (line: string) => void

  /** `what` names the kind in the log line of a throw ("a `what` subscriber threw…"). */
  constructor(what: string, log: (line: string) => void) {
    this.what = what
    this.log = log
  }

  /** Adds `handler`; resolves to its unsubscribe. */
  add(handler: (...args: A) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  /** Tells each subscriber; `about` (an exec id, say) is named in the log line of one that throws. */
  tell(args: A, about?: string): void {
    for (const handler of [...this.handlers]) {
      try {
        handler(...args)
      } catch (error) {
        this.log(`a ${this.what} subscriber threw${about === undefined ? '' : ` on ${about}`}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }
}
