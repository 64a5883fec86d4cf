/**
 * A WalIo that "crashes" at an exact step: every call that changes the disk counts as one step, and at step `crashAt`
 * the call throws (after writing only half its bytes, for a torn write) and every later call throws too — the process
 * is gone. Reads are not steps. Used to crash a snapshot write at each point in turn.
 */

import { nodeIo, type WalIo } from '../../../wal/index.ts'

export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash'
}

export interface FaultyIo extends WalIo {
  readonly steps: string[]
  crashed: boolean
}

export function faultyIo(options: { crashAt: number | null; tornWrites: boolean }): FaultyIo {
  const steps: string[] = []
  const io: FaultyIo = {
    ...nodeIo,
    steps,
    crashed: false,
  }
  const step = (name: string): boolean => {
    if (io.crashed) throw new SimulatedCrash(`process already crashed (at ${name})`)
    steps.push(name)
    if (options.crashAt !== null && steps.length === options.crashAt) {
      io.crashed = true
      return true
    }
    return false
  }
  const mutating = ['openAppend', 'fdatasync', 'fdatasyncOffLoop', 'writeOffLoop', 'fsync', 'fsyncOffLoop', 'close', 'truncate', 'fsyncDirectory', 'rename', 'link', 'unlink', 'mkdirp'] as const
  for (const name of mutating) {
    const original = nodeIo[name] as (...args: unknown[]) => unknown
    ;(io as unknown as Record<string, unknown>)[name] = (...args: unknown[]): unknown => {
      if (step(name)) throw new SimulatedCrash(`crash at step ${steps.length} (${name})`)
      return original(...args)
    }
  }
  io.write = (fd, data, positionBytes) => {
    if (step('write')) {
      if (options.tornWrites) nodeIo.write(fd, data.subarray(0, Math.floor(data.byteLength / 2)), positionBytes)
      throw new SimulatedCrash(`crash at step ${steps.length} (write${options.tornWrites ? ', torn' : ''})`)
    }
    nodeIo.write(fd, data, positionBytes)
  }
  return io
}
