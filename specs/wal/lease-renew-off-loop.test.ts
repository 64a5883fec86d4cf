/**
 * A leader's lease renewal off the event loop (Lease.renewOffLoop): written, fsynced, renamed and its directory
 * fsynced on the thread pool. Renewed on the loop, a slow disk held the whole gateway for as long as the syncs took
 * (235 ms measured under load) and a short lease could run out while its renewal wrote. What renew guarantees must
 * hold all the same: the expiry counts from before the write, the previous expiry governs until the record is durable,
 * one renewal writes at a time, a failed sync moves nothing, and a release while one writes is the last word on disk.
 *
 * The io here holds chosen off-loop calls until the spec lets them go, so every interleaving is exact.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { AssertionError } from '../../wal/assert.ts'
import { Lease, LeaseError, nodeIo, readCurrentLease, type WalIo } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

type OffLoopCall = 'writeOffLoop' | 'fsyncOffLoop' | 'renameOffLoop' | 'fsyncDirectoryOffLoop'

/** nodeIo whose off-loop calls named in `held` wait in `waiting` until let go (or fail with `failWith`). */
function holdingIo(): { io: WalIo; held: Set<OffLoopCall>; waiting: Array<{ call: OffLoopCall; go: (error?: Error) => void }>; issued: OffLoopCall[] } {
  const held = new Set<OffLoopCall>()
  const waiting: Array<{ call: OffLoopCall; go: (error?: Error) => void }> = []
  const issued: OffLoopCall[] = []
  const gate = (call: OffLoopCall, issue: (done: (error: Error | null) => void) => void, done: (error: Error | null) => void): void => {
    issued.push(call)
    if (!held.has(call)) return issue(done)
    waiting.push({ call, go: (error) => (error === undefined ? issue(done) : setTimeout(() => done(error), 0)) })
  }
  const io: WalIo = {
    ...nodeIo,
    writeOffLoop: (fd, data, positionBytes, done) => gate('writeOffLoop', (next) => nodeIo.writeOffLoop(fd, data, positionBytes, next), done),
    fsyncOffLoop: (fd, done) => gate('fsyncOffLoop', (next) => nodeIo.fsyncOffLoop(fd, next), done),
    renameOffLoop: (from, to, done) => gate('renameOffLoop', (next) => nodeIo.renameOffLoop(from, to, next), done),
    fsyncDirectoryOffLoop: (path, done) => gate('fsyncDirectoryOffLoop', (next) => nodeIo.fsyncDirectoryOffLoop(path, next), done),
  }
  return { io, held, waiting, issued }
}

/** Waits until a call is held (the renewal got that far), then hands it over. */
async function heldCall(waiting: Array<{ call: OffLoopCall; go: (error?: Error) => void }>, call: OffLoopCall): Promise<(error?: Error) => void> {
  for (let turn = 0; turn < 500; turn++) {
    const at = waiting.findIndex((entry) => entry.call === call)
    if (at >= 0) return waiting.splice(at, 1)[0]!.go
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  throw new Error(`no ${call} was held`)
}

function manualClock(startMs: number): { nowMs: () => number; advance: (ms: number) => void } {
  let now = startMs
  return { nowMs: () => now, advance: (ms) => void (now += ms) }
}

async function settled<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await promise }
  } catch (error) {
    return { error }
  }
}

function tempFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.tmp'))
}

/**
 * A lease (TTL 1 s, taken at 1_000_000, so expiring at 1_001_000) renewed off the loop 500 ms later, its `call` failed
 * with EIO: the renewal has rejected with that error.
 */
async function renewalFailedAt(call: OffLoopCall): Promise<{ dir: string; clock: ReturnType<typeof manualClock>; lease: Lease }> {
  const dir = tempDir()
  const clock = manualClock(1_000_000)
  const { io, held, waiting } = holdingIo()
  const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: clock.nowMs })
  held.add(call)
  clock.advance(500)
  const renewal = settled(lease.renewOffLoop())
  ;(await heldCall(waiting, call))(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }))
  const outcome = await renewal
  expect('error' in outcome && (outcome.error as NodeJS.ErrnoException).code).toBe('EIO')
  return { dir, clock, lease }
}

describe('a renewal off the event loop', () => {
  test('leaves the loop free while its fsync waits; the previous expiry governs until the record is durable, and the new one counts from before the write', async () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const { io, held, waiting } = holdingIo()
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: clock.nowMs })
    held.add('fsyncOffLoop')
    clock.advance(900)
    let timerFired = false
    setTimeout(() => void (timerFired = true), 0)
    const renewal = lease.renewOffLoop()
    const go = await heldCall(waiting, 'fsyncOffLoop')
    expect(timerFired).toBe(true)
    // Not durable yet: the record on disk and this holder's own view are the previous ones.
    expect(readCurrentLease(dir)?.expiresAtMs).toBe(1_001_000)
    clock.advance(100)
    expect(lease.isHeld()).toBe(false)
    clock.advance(-1)
    expect(lease.isHeld()).toBe(true)
    go()
    const record = await renewal
    // From the time the renewal began (1_000_900), not from when its sync ended.
    expect(record.expiresAtMs).toBe(1_001_900)
    expect(readCurrentLease(dir)?.expiresAtMs).toBe(1_001_900)
    clock.advance(900) // 1_001_899
    expect(lease.isHeld()).toBe(true)
    clock.advance(1)
    expect(lease.isHeld()).toBe(false)
    expect(tempFilesIn(dir)).toEqual([])
  })

  test('whose fsync fails rejects with that error and moves nothing: the lease ends at its previous expiry', async () => {
    const { dir, clock, lease } = await renewalFailedAt('fsyncOffLoop')
    expect(readCurrentLease(dir)?.expiresAtMs).toBe(1_001_000)
    clock.advance(499)
    expect(lease.isHeld()).toBe(true)
    clock.advance(1)
    expect(lease.isHeld()).toBe(false)
  })

  test('whose directory fsync fails rejects too, the expiry unmoved (the record in place only makes a taker wait longer)', async () => {
    const { clock, lease } = await renewalFailedAt('fsyncDirectoryOffLoop')
    clock.advance(500)
    expect(lease.isHeld()).toBe(false)
  })

  test('writes one at a time: calls while one writes share the next, which writes the in-sync set as it is then', async () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const { io, held, waiting, issued } = holdingIo()
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: clock.nowMs })
    held.add('fsyncOffLoop')
    const first = lease.renewOffLoop()
    const goFirst = await heldCall(waiting, 'fsyncOffLoop')
    lease.setInSync([{ nodeId: 'b', joinedLsn: 7 }])
    const second = lease.renewOffLoop()
    const third = lease.renewOffLoop()
    expect(third).toBe(second)
    expect(() => lease.renew()).toThrow(AssertionError)
    await new Promise((resolve) => setTimeout(resolve, 5))
    // Nothing of the second was issued while the first writes.
    expect(issued.filter((call) => call === 'writeOffLoop')).toHaveLength(1)
    clock.advance(100)
    goFirst()
    expect((await first).inSync).toBeUndefined()
    const goSecond = await heldCall(waiting, 'fsyncOffLoop')
    goSecond()
    const written = await second
    expect(written.inSync).toEqual([{ nodeId: 'b', joinedLsn: 7 }])
    expect(written.expiresAtMs).toBe(1_001_100)
    expect(readCurrentLease(dir)?.inSync).toEqual([{ nodeId: 'b', joinedLsn: 7 }])
    expect(issued.filter((call) => call === 'writeOffLoop')).toHaveLength(2)
    // None writing: the next call starts at once, and renew() may run again.
    lease.renew()
  })

  test('asked for once the lease has run out rejects LEASE_LOST at once, even while a renewal that never ends writes', async () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const { io, held, waiting } = holdingIo()
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: clock.nowMs })
    held.add('renameOffLoop')
    void lease.renewOffLoop()
    await heldCall(waiting, 'renameOffLoop') // never let go: a disk (an NFS share) that hangs
    clock.advance(500)
    const whileHeld = settled(lease.renewOffLoop())
    clock.advance(500)
    expect(lease.isHeld()).toBe(false)
    const timedOut = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 50))
    const outcome = await Promise.race([settled(lease.renewOffLoop()), timedOut])
    expect(outcome !== 'pending' && 'error' in outcome && outcome.error instanceof LeaseError && outcome.error.code).toBe('LEASE_LOST')
    // The one asked for while the lease held still waits behind the renewal that writes.
    expect(await Promise.race([whileHeld, timedOut])).toBe('pending')
  })

  test('finds a takeover made while it wrote: LEASE_LOST, for good', async () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const { io, held, waiting } = holdingIo()
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: clock.nowMs })
    held.add('fsyncOffLoop')
    const renewal = settled(lease.renewOffLoop())
    const go = await heldCall(waiting, 'fsyncOffLoop')
    const taker = Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 0, nowMs: () => 1_002_000 })
    go()
    const outcome = await renewal
    expect('error' in outcome && (outcome.error as LeaseError).code).toBe('LEASE_LOST')
    expect(lease.isHeld()).toBe(false)
    expect(taker.isHeld()).toBe(true)
  })
})

describe('renewalsSettled', () => {
  test('resolves once the renewal writing and the one queued behind it have ended, after their callers are answered; at once when none writes', async () => {
    const dir = tempDir()
    const { io, held, waiting } = holdingIo()
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: () => 1_000_000 })
    expect(await Promise.race([lease.renewalsSettled().then(() => 'settled'), Bun.sleep(20).then(() => 'pending')])).toBe('settled')
    held.add('fsyncOffLoop')
    const answered: string[] = []
    const first = lease.renewOffLoop().then(() => void answered.push('first'))
    const go = await heldCall(waiting, 'fsyncOffLoop')
    held.delete('fsyncOffLoop')
    const second = lease.renewOffLoop().then(() => void answered.push('second'))
    const settled = lease.renewalsSettled().then(() => void answered.push('settled'))
    setTimeout(go, 10)
    await settled
    expect(answered).toEqual(['first', 'second', 'settled'])
    await Promise.all([first, second])
  })
})

describe('two holders of one epoch in one process (its file had gone, and a taker linked the epoch again)', () => {
  test('renew under temp files of their own: the one writing second replaces the record whole, and the other finds it LEASE_LOST', async () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const { io, held, waiting } = holdingIo()
    const first = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: clock.nowMs })
    held.add('writeOffLoop')
    const renewal = settled(first.renewOffLoop())
    const goFirst = await heldCall(waiting, 'writeOffLoop')
    // Its file gone (a lease directory emptied by hand), a taker links epoch 1 again and renews at once.
    unlinkSync(join(dir, 'epoch-0000000001.json'))
    const second = Lease.acquire({ dir, holderId: 'b http://127.0.0.1:1', ttlMs: 1000, clockSkewMsMax: 0, nowMs: clock.nowMs })
    expect(second.epoch).toBe(1)
    await second.renewOffLoop()
    goFirst()
    const outcome = await renewal
    // The first's renewal checked the file before the taker linked it: its record replaces the taker's, whole (under
    // one temp file, its write landed in the taker's renamed file: half of each, a record no taker could read).
    expect(outcome).toMatchObject({ value: { holderId: 'a' } })
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'a', epoch: 1 })
    const lost = await settled(second.renewOffLoop())
    expect('error' in lost && lost.error instanceof LeaseError && lost.error.code).toBe('LEASE_LOST')
    expect(tempFilesIn(dir)).toEqual([])
  })
})

describe('two holders of one epoch in processes with the same pid (containers sharing the lease directory)', () => {
  test('renew on the event loop under temp files of their own too: the one renaming second replaces the record whole, and the other finds it LEASE_LOST', () => {
    const dir = tempDir()
    let whileSyncing: (() => void) | null = null
    // The other process's holder runs while this one's temp file syncs (both in this process here: the same pid).
    const io: WalIo = {
      ...nodeIo,
      fsync: (fd) => {
        const other = whileSyncing
        whileSyncing = null
        other?.()
        nodeIo.fsync(fd)
      },
    }
    const first = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: () => 1_000_000 })
    unlinkSync(join(dir, 'epoch-0000000001.json'))
    let second: Lease | null = null
    whileSyncing = () => {
      second = Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 0, nowMs: () => 1_000_000 })
      second.renew()
    }
    // Before: both wrote `epoch-0000000001.json.<pid>.tmp`; the second's rename took the first's temp file away, and the
    // first's rename failed (ENOENT).
    first.renew()
    expect(second).not.toBeNull()
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'a', epoch: 1 })
    expect(() => second!.renew()).toThrow(expect.objectContaining({ code: 'LEASE_LOST' }))
    expect(tempFilesIn(dir)).toEqual([])
  })
})

describe('a release while a renewal writes off the event loop', () => {
  for (const call of ['fsyncOffLoop', 'renameOffLoop', 'fsyncDirectoryOffLoop'] as const) {
    test(`is the last word on disk (the renewal held at its ${call}), and the renewal is LEASE_LOST`, async () => {
      const dir = tempDir()
      const clock = manualClock(1_000_000)
      const { io, held, waiting } = holdingIo()
      const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, io, nowMs: clock.nowMs })
      held.add(call)
      clock.advance(300)
      const renewal = settled(lease.renewOffLoop())
      const go = await heldCall(waiting, call)
      lease.noteReplicated(42)
      lease.release()
      expect(readCurrentLease(dir)).toMatchObject({ holderId: 'a', expiresAtMs: 0, replicatedLsn: 42 })
      expect(lease.isHeld()).toBe(false)
      go()
      const outcome = await renewal
      expect('error' in outcome && outcome.error instanceof LeaseError && outcome.error.code).toBe('LEASE_LOST')
      // The renewal's record (expiry 1_001_300, the floor before) never replaced the released one.
      expect(readCurrentLease(dir)).toMatchObject({ holderId: 'a', expiresAtMs: 0, replicatedLsn: 42 })
      expect(tempFilesIn(dir)).toEqual([])
      const taker = Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 0, nowMs: clock.nowMs })
      expect(taker.epoch).toBe(2)
    })
  }
})
