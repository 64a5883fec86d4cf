/** Invariant replay-equals-live, checked at each crash and at the end of a run (run-seed.ts). */

import { join } from 'node:path'
import { stateDigest } from '../../src/kernel/index.ts'
import { Engine } from '../../src/runtime/index.ts'
import { Wal } from '../../wal/index.ts'
import type { Violation } from './invariants.ts'

/** 6. Replaying the log from scratch gives the live projections, digest for digest. */
export async function checkReplay(dir: string, liveDigest: string): Promise<Violation[]> {
  const wal = Wal.open(join(dir, 'log'), { durability: 'none' })
  try {
    const replayed = stateDigest(Engine.replay(wal).state)
    if (replayed === liveDigest) return []
    return [{ invariant: 'replay-equals-live', message: `replayed digest ${replayed.slice(0, 16)}… ≠ live digest ${liveDigest.slice(0, 16)}…` }]
  } finally {
    await wal.close()
  }
}
