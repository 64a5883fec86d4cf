/** A crash of an in-process FIX serve gateway, shared by the serve-fix-* specs. */

import { openBackOfficeOf } from '../../src/backoffice/index.ts'
import type { ServeGateway } from '../../src/cli/serve-gateway.ts'
import type { StoppableClock } from '../../src/cli/stoppable-clock.ts'

/**
 * The process dies: nothing more is recorded or sent, and the session ends without a Logout. `clocks` (the specs'
 * started clocks) are emptied, each canceled.
 */
export async function crashServed(served: ServeGateway, clocks: StoppableClock[]): Promise<void> {
  const { gateway } = served
  gateway.executor.stop()
  for (const unsubscribe of gateway['unsubscribes'].splice(0)) unsubscribe()
  await gateway.engine.settled()
  await gateway.engine.wal.close()
  for (const fix of served.fixVenues) await fix.adapter.stop()
  openBackOfficeOf(gateway)?.close()
  for (const clock of clocks.splice(0)) clock.cancelAll()
}
