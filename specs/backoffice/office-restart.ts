// A world with the back office's snapshot section, started fresh or restarted on another's data dir, clock and venue;
// and the query model a rebuild from the whole log gives: what store-unreadable and store-replace-interrupted compare
// a restarted back office with.
import { join } from 'node:path'
import { backOfficeSectionSource, QueryModelRebuild } from '../../src/backoffice/index.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { openReadOnly } from '../../wal/index.ts'
import { startWorld, type World } from '../runtime/harness.ts'

/** A world started with the back-office section source (on `from`'s data dir, clock and venue when given), kept in `worlds`. */
export async function officeWorld(worlds: World[], seed: number, from?: World): Promise<World> {
  let gateway: Gateway | null = null
  const restart = from === undefined ? {} : { dir: from.dir, clock: from.clock, venue: from.venue }
  const world = await startWorld({ seed, ...restart, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  worlds.push(world)
  return world
}

/** The content digest of the query model rebuilt from the whole log in `dir`. */
export function rebuiltDigest(dir: string): string {
  const rebuild = QueryModelRebuild.fromGenesis()
  try {
    for (const frame of openReadOnly(join(dir, 'log')).read(1)) rebuild.apply(frame)
    return rebuild.digest().digest
  } finally {
    rebuild.close()
  }
}
