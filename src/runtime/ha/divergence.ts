/**
 * A standby told DIVERGED holds records the leader does not (a deposed leader's writes it never acknowledged): find the
 * last LSN both logs share, say what lies beyond it, and set this node's log and snapshots aside so it can follow the
 * leader again from scratch (HaNode.resync).
 */

import { existsSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { toHex, type Wal } from '../../../wal/index.ts'

export interface DivergenceReport {
  commonLsn: number
  discardedFromLsn: number
  discardedToLsn: number
  discardedCount: number
  discardedEpochs: number[]
  movedTo: string
}

/** The highest LSN at which this log and the leader's have the same chain hash (chains agree on every LSN below it). */
export async function commonLsnWithLeader(wal: Wal, leaderUrl: string, replicationToken: string): Promise<number> {
  const ours = (lsn: number): string => {
    for (const frame of wal.read(lsn, { toLsn: lsn })) return toHex(frame.hash)
    return ''
  }
  const theirs = async (lsn: number): Promise<string | null> => {
    const response = await fetch(`${leaderUrl}/replication/hash?lsn=${lsn}`, { headers: { Authorization: `Bearer ${replicationToken}` } })
    if (response.status === 404) return null
    if (!response.ok) throw new Error(`hash at LSN ${lsn} from ${leaderUrl}: ${response.status}`)
    return ((await response.json()) as { hash: string }).hash
  }
  let low = wal.firstLsn - 1
  let high = wal.lastLsn
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if ((await theirs(middle)) === ours(middle)) low = middle
    else high = middle - 1
  }
  return low
}

/** The LSN and epoch of every record this log holds beyond `commonLsn`. */
export function framesBeyond(wal: Wal, commonLsn: number): { lsn: number; epoch: number }[] {
  return [...wal.read(commonLsn + 1)].map((frame) => ({ lsn: frame.lsn, epoch: frame.epoch }))
}

/** Moves `<dataDir>/log` (and `snapshots`, if any) aside under a `diverged-<ms>` suffix; the gateway must be stopped. */
export function setDivergedLogAside(dataDir: string, commonLsn: number, discarded: readonly { lsn: number; epoch: number }[]): DivergenceReport {
  const suffix = `diverged-${Date.now()}`
  const movedTo = join(dataDir, `log.${suffix}`)
  renameSync(join(dataDir, 'log'), movedTo)
  const snapshots = join(dataDir, 'snapshots')
  if (existsSync(snapshots)) renameSync(snapshots, join(dataDir, `snapshots.${suffix}`))
  return {
    commonLsn,
    discardedFromLsn: commonLsn + 1,
    discardedToLsn: discarded.at(-1)?.lsn ?? commonLsn,
    discardedCount: discarded.length,
    discardedEpochs: [...new Set(discarded.map((frame) => frame.epoch))],
    movedTo,
  }
}
