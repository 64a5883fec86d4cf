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
