/**
 * A standby's projections kept hot: the frames its replicator made durable are applied right after the commit.
 * Applying waits for a microtask so every other commit listener (the back office's) has seen the batch first — the
 * same order as on a leader, where the engine's listeners run after the append resolves. The first batch that fails
 * ends applying for good (the engine is part way through it): onFailed hears of it once (Gateway.replicaApplyFailed).
 */

import { copyFrame, type Wal } from '../../wal/index.ts'
import type { Engine } from './engine.ts'
import type { GatewayOptions } from './gateway-options.ts'
import { ReplicaApplyError } from './replica-apply-error.ts'

/** Applies each batch `wal` (a replica) makes durable to `engine`; returns the unsubscribe. */
export function applyReplicatedBatches(wal: Wal, engine: Engine, options: { onError: GatewayOptions['onError']; onFailed: (failure: ReplicaApplyError) => void }): () => void {
  let applyFailed = false
  return wal.subscribe((batch) => {
    if (applyFailed) return
    const frames = batch.frames.map((frame) => copyFrame(frame))
    queueMicrotask(() => {
      if (applyFailed) return
      try {
        engine.applyReplicated(frames)
      } catch (error) {
        applyFailed = true
        const failure = new ReplicaApplyError(batch.firstLsn, batch.lastLsn, error)
        options.onError(failure, `applying replicated LSNs ${batch.firstLsn}..${batch.lastLsn}`)
        options.onFailed(failure)
      }
    })
  })
}
