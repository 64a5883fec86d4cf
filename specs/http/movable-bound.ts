/** A StreamBound (src/http/sse/held-back.ts) the spec moves itself, in place of a standby's acknowledgements. */

import type { StreamBound } from '../../src/http/sse/index.ts'

export class MovableBound implements StreamBound {
  private readonly listeners = new Set<() => void>()
  constructor(public lsn: number) {}
  acknowledgeableLsn(localLsn: number): number {
    return Math.min(localLsn, this.lsn)
  }
  onAcknowledgeableMoved(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  moveTo(lsn: number): void {
    this.lsn = lsn
    for (const listener of this.listeners) listener()
  }
}
