/** A data directory a gateway traded in and then stopped cleanly: what the offline commands' specs run on. */

import { startWorld } from '../../runtime/harness.ts'
import { trade } from '../../runtime/snapshot/support.ts'

/** Its path is pushed to `dirs`, for the spec to remove afterwards. */
export async function stoppedDataDir(seed: number, options: { orders: number; tag: string; dirs: string[] }): Promise<string> {
  const world = await startWorld({ seed })
  options.dirs.push(world.dir)
  await trade(world, { orders: options.orders, tag: options.tag, seed })
  await world.gateway.stop()
  return world.dir
}
