/**
 * The teardown of a stopping HA node (HaNode.stop): every step runs even when an earlier one throws. A gateway whose
 * stop failed used to end stop() there, leaving the lease-renewal timer running — renewing the lease for good, so no
 * other node could ever take over — and the lease unreleased. Each failure is logged; the caller surfaces the first.
 */

export interface TeardownStep {
  /** What the step does, for the log line of its failure ("stopping the gateway"). */
  name: string
  run: () => unknown
}

/** Runs every step in order, each awaited; returns the errors they threw, in order (empty: all went through). */
export async function tearDownAll(steps: readonly TeardownStep[], log: (line: string) => void): Promise<unknown[]> {
  const errors: unknown[] = []
  for (const step of steps) {
    try {
      await step.run()
    } catch (error) {
      errors.push(error)
      log(`stop: ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  return errors
}

/** What stopping an HA node takes apart (HaNode.stop). */
export interface NodeParts {
  stopReplicator(): Promise<void>
  closeSync(): void
  stopGateway(): Promise<void> | undefined
  clearTimer(): void
  releaseLease(): void
}

/**
 * The node's teardown, every step in this order. The timer keeps renewing a leader's lease until its gateway has
 * stopped (tick does nothing else meanwhile): a shutdown longer than the lease's remaining life (a large snapshot at
 * shutdown) would otherwise let the standby take over while this node still writes its last records, which its log
 * would then refuse (LEASE_LOST).
 */
export function tearDownNode(parts: NodeParts, log: (line: string) => void): Promise<unknown[]> {
  return tearDownAll([...stopSteps(parts), { name: 'clearing the timer', run: () => parts.clearTimer() }, { name: 'releasing the lease', run: () => parts.releaseLease() }], log)
}

/**
 * stop() past its bound, a role change still running: the lease goes first, then the rest is only begun, not waited
 * for. What is stuck may be a gateway's stop (a takeover stopping its standby gateway): the teardown's own stop of that
 * gateway would wait on the same promise, with the timer renewing the lease all the while, so no other node could
 * ever take over. Released, the lease fences this node at once (its log refuses to write or acknowledge).
 */
export function abandonNode(parts: NodeParts, log: (line: string) => void): void {
  parts.clearTimer()
  parts.releaseLease()
  void tearDownAll(stopSteps(parts), log)
}

function stopSteps(parts: NodeParts): TeardownStep[] {
  return [
    { name: 'stopping the replicator', run: () => parts.stopReplicator() },
    { name: 'closing synchronous replication', run: () => parts.closeSync() },
    { name: 'stopping the gateway', run: () => parts.stopGateway() },
  ]
}
