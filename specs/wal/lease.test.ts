import { afterEach, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { Lease, LeaseError, Wal, nodeIo, readCurrentLease } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

function manualClock(startMs: number): { nowMs: () => number; advance: (ms: number) => void } {
  let now = startMs
  return { nowMs: () => now, advance: (ms) => void (now += ms) }
}

function leaseCode(action: () => unknown): string | null {
  try {
    action()
    return null
  } catch (error) {
    if (error instanceof LeaseError) return error.code
    throw error
  }
}

describe('lease', () => {
  test('the first holder gets epoch 1 and a second process cannot acquire a live lease', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const first = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    expect(first.epoch).toBe(1)
    expect(first.isHeld()).toBe(true)
    expect(leaseCode(() => Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }))).toBe('LEASE_HELD')
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'a', epoch: 1 })
  })

  test('an expired lease is taken over with epoch + 1 only after the skew bound, and fences the old holder at once', () => {
    const dir = tempDir()
    const clockA = manualClock(1_000_000)
    const clockB = manualClock(1_000_000)
    const a = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 200, nowMs: clockA.nowMs })
    clockB.advance(1100)
    expect(leaseCode(() => Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 200, nowMs: clockB.nowMs }))).toBe('LEASE_HELD')
    clockB.advance(150)
    const b = Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 200, nowMs: clockB.nowMs })
    expect(b.epoch).toBe(2)
    // A's own clock says its lease is still valid (a paused or skewed host), yet it is fenced by epoch 2.
    expect(a.isHeld()).toBe(false)
    expect(leaseCode(() => a.renew())).toBe('LEASE_LOST')
    expect(b.isHeld()).toBe(true)
  })

  test('renewal extends the lease; a holder that stops renewing loses it by its own clock', () => {
    const dir = tempDir()
    const clock = manualClock(5_000_000)
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, nowMs: clock.nowMs })
    clock.advance(900)
    lease.renew()
    clock.advance(900)
    expect(lease.isHeld()).toBe(true)
    clock.advance(200)
    expect(lease.isHeld()).toBe(false)
    expect(readCurrentLease(dir)?.expiresAtMs).toBe(5_000_000 + 900 + 1000)
  })

  test('a released lease can be taken at once by another holder', () => {
    const dir = tempDir()
    const clock = manualClock(1_000)
    const a = Lease.acquire({ dir, holderId: 'a', ttlMs: 60_000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    a.release()
    expect(a.isHeld()).toBe(false)
    clock.advance(200)
    expect(Lease.acquire({ dir, holderId: 'b', ttlMs: 60_000, clockSkewMsMax: 100, nowMs: clock.nowMs }).epoch).toBe(2)
  })

  test('only the lease holder may open the log, and frames carry its epoch', async () => {
    const leaseDir = tempDir()
    const logDir = tempDir()
    const clock = manualClock(Date.now())
    const lease = Lease.acquire({ dir: leaseDir, holderId: 'a', ttlMs: 10_000, nowMs: clock.nowMs })
    expect(() => Wal.open(logDir, { lease, epoch: 7 })).toThrow(/differs from the lease epoch/)
    const wal = Wal.open(logDir, { lease, epoch: lease.epoch })
    await wal.append([record('x')])
    expect([...wal.read(1)][0]?.epoch).toBe(lease.epoch)
    await wal.close()
    lease.release()
    expect(() => Wal.open(logDir, { lease, epoch: lease.epoch })).toThrow(LeaseError)
  })

  test('a writer whose lease was taken over cannot acknowledge an append', async () => {
    const leaseDir = tempDir()
    const clockA = manualClock(1_000_000)
    const a = Lease.acquire({ dir: leaseDir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 0, nowMs: clockA.nowMs })
    const wal = Wal.open(tempDir(), { lease: a, epoch: a.epoch })
    expect(await wal.append([record('before')])).toEqual([1])
    Lease.acquire({ dir: leaseDir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 0, nowMs: () => 1_000_000 + 2000 })
    await expect(wal.append([record('after takeover')])).rejects.toBeInstanceOf(LeaseError)
    await expect(wal.append([record('later')])).rejects.toBeInstanceOf(LeaseError)
    await wal.close()
  })

  test('processes racing for an expired lease: exactly one wins each epoch', async () => {
    const dir = tempDir()
    for (let round = 1; round <= 3; round++) {
      if (round > 1) {
        // Expire the current lease so the next round races for epoch `round`.
        const current = readCurrentLease(dir)
        if (current === null) throw new Error('a lease should exist')
        await Bun.write(join(dir, `epoch-${String(current.epoch).padStart(10, '0')}.json`), JSON.stringify({ ...current, expiresAtMs: 0 }))
      }
      const startAtMs = Date.now() + 400
      const fixture = join(import.meta.dir, 'fixtures', 'lease-contender.ts')
      const children = Array.from({ length: 4 }, (_, index) =>
        Bun.spawn([process.execPath, fixture, dir, `node-${index}`, String(startAtMs)], { stdout: 'pipe', stderr: 'inherit' }),
      )
      const outputs = await Promise.all(children.map((child) => new Response(child.stdout).text()))
      const winners = outputs.filter((output) => output.startsWith('won'))
      expect(winners, `round ${round}: ${outputs.join(' | ')}`).toEqual([`won ${round}\n`])
      for (const output of outputs.filter((line) => line.startsWith('lost'))) expect(output).toMatch(/lost LEASE_(HELD|RACE_LOST)/)
    }
  })

  test('a SIGSTOPped holder resumed after a takeover cannot append', async () => {
    const leaseDir = tempDir()
    const fixture = join(import.meta.dir, 'fixtures', 'zombie-writer.ts')
    const child = Bun.spawn([process.execPath, fixture, leaseDir, tempDir()], { stdout: 'pipe', stderr: 'inherit' })
    const reader = child.stdout.getReader()
    const decoder = new TextDecoder()
    let output = ''
    while (!/ack \d+/.test(output)) output += decoder.decode((await reader.read()).value)
    child.kill('SIGSTOP')
    const stoppedAt = output.length
    await Bun.sleep(600) // past the zombie's TTL (400 ms)
    const taker = Lease.acquire({ dir: leaseDir, holderId: 'taker', ttlMs: 5000, clockSkewMsMax: 0 })
    expect(taker.epoch).toBe(2)
    child.kill('SIGCONT')
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      output += decoder.decode(value)
    }
    await child.exited
    const afterResume = output.slice(stoppedAt)
    // An append whose fsync and lease check completed before the stop may still report once; nothing after it.
    expect((afterResume.match(/^ack /gm) ?? []).length).toBeLessThanOrEqual(1)
    expect(afterResume).toContain('stopped LEASE_LOST')
  })
})

describe('a lease file whose record names another epoch than its file name', () => {
  /**
   * The epoch taken next came from the record's content, the current lease from the highest file name. A record that
   * disagrees with its name (a file restored or copied over by hand, a stray edit) made every taker try the epoch its
   * file already holds: LEASE_RACE_LOST, which an HA node reads as "another node won" and says nothing about, so no
   * node could ever lead again and nothing said why. It is refused as the invalid lease file it is.
   */
  test('is LEASE_FILE_INVALID for readers and takers, not a race lost for good', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }).release()
    const second = Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    expect(second.epoch).toBe(2)
    second.release()
    // epoch-0000000002.json now holds epoch 1's record: what a copy of the first file over the second leaves.
    copyFileSync(join(dir, 'epoch-0000000001.json'), join(dir, 'epoch-0000000002.json'))
    clock.advance(10_000)
    expect(leaseCode(() => readCurrentLease(dir))).toBe('LEASE_FILE_INVALID')
    expect(leaseCode(() => Lease.acquire({ dir, holderId: 'c', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }))).toBe('LEASE_FILE_INVALID')
  })
})

describe('a lease record whose times cannot be a lease', () => {
  /**
   * Only the types were checked: an expiresAtMs with a digit too many kept every standby following a dead leader for
   * centuries, without a word, and one past a Date's range made a takeover fail as "Invalid Date", naming nothing.
   */
  test('an expiry beyond the longest lease, or no whole millisecond, is LEASE_FILE_INVALID naming the file; a released record is fine', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const held = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    const file = join(dir, 'epoch-0000000001.json')
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    for (const expiresAtMs of [1_000_000 + 600_001, 1e400, 99_999_999_999_999_999, 1_000_500.5, -1]) {
      writeFileSync(file, JSON.stringify({ ...written, expiresAtMs }))
      expect(leaseCode(() => readCurrentLease(dir))).toBe('LEASE_FILE_INVALID')
      expect(leaseCode(() => Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }))).toBe('LEASE_FILE_INVALID')
    }
    writeFileSync(file, JSON.stringify({ ...written, expiresAtMs: 1_000_000 + 600_000 }))
    expect(readCurrentLease(dir)?.expiresAtMs).toBe(1_600_000)
    writeFileSync(file, JSON.stringify(written))
    held.release()
    expect(readCurrentLease(dir)?.expiresAtMs).toBe(0)
    expect(() => Lease.acquire({ dir: tempDir(), holderId: 'c', ttlMs: 600_001, nowMs: clock.nowMs })).toThrow(RangeError)
  })
})

describe('an epoch file that is no lease record at all', () => {
  /**
   * A directory under an epoch file's name failed as node's bare `EISDIR: illegal operation on a directory, read` (an
   * HA node said "the node could not start: EISDIR: …", naming no file); a 200 MB file there was read whole before it
   * was refused. Both are LEASE_FILE_INVALID naming the file, and a file past the bound is not read.
   */
  test('a directory or an oversized file is LEASE_FILE_INVALID naming it, for readers and takers', () => {
    const dirs = tempDir()
    mkdirSync(join(dirs, 'epoch-0000000003.json'))
    const large = tempDir()
    writeFileSync(join(large, 'epoch-0000000003.json'), ' '.repeat(64 * 1024 + 1))
    const cases: Array<[string, string]> = [
      [dirs, `LEASE_FILE_INVALID: ${join(dirs, 'epoch-0000000003.json')} cannot be read (EISDIR) (refusing to guess who holds it)`],
      [large, `LEASE_FILE_INVALID: ${join(large, 'epoch-0000000003.json')} is ${64 * 1024 + 1} bytes, no lease record is larger than ${64 * 1024} (refusing to guess who holds it)`],
    ]
    for (const [dir, message] of cases) {
      expect(() => readCurrentLease(dir)).toThrow(message)
      expect(() => Lease.acquire({ dir, holderId: 'a' })).toThrow(message)
    }
  })
})

describe('a holder fenced long ago', () => {
  /**
   * The fencing check was one stat: does epoch n+1 exist? Every taker tidies the epoch files four or more below its
   * own, so once epoch n+5 was taken the files of n and n+1 were gone and the check of a holder of n — paused through
   * those takeovers, its clock stepped back or frozen — said "held" again: it would have acknowledged and sent.
   */
  test('is still fenced once later takers have tidied its epoch file and the next one away', () => {
    const dir = tempDir()
    const stopped = manualClock(1_000_000)
    const a = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: stopped.nowMs })
    const later = manualClock(1_000_000)
    for (let epoch = 2; epoch <= 6; epoch++) {
      later.advance(10_000)
      expect(Lease.acquire({ dir, holderId: `n${epoch}`, ttlMs: 1000, clockSkewMsMax: 100, nowMs: later.nowMs }).epoch).toBe(epoch)
    }
    expect(existsSync(join(dir, 'epoch-0000000002.json'))).toBe(false)
    expect(a.isHeld()).toBe(false)
    expect(leaseCode(() => a.renew())).toBe('LEASE_LOST')
    // The fenced renewal wrote nothing: the tidied file is not brought back.
    expect(existsSync(join(dir, 'epoch-0000000001.json'))).toBe(false)
  })

  test('old epoch files are tidied oldest first, so a holder never finds the next epoch gone and its own still there', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    for (let epoch = 1; epoch <= 5; epoch++) {
      Lease.acquire({ dir, holderId: `n${epoch}`, ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }).release()
      clock.advance(10)
    }
    const removed: string[] = []
    const io = { ...nodeIo, readdir: (path: string) => [...nodeIo.readdir(path)].sort().reverse(), unlink: (path: string) => void (removed.push(basename(path)), nodeIo.unlink(path)) }
    // Two files at or below epoch 6 - 4 are left for the taker of epoch 6 to tidy (earlier takers tidied nothing, as
    // their epochs were below 5, but for epoch 1 at the taker of 5).
    writeFileSync(join(dir, 'epoch-0000000001.json'), readFileSync(join(dir, 'epoch-0000000002.json')))
    Lease.acquire({ dir, holderId: 'n6', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, io })
    expect(removed.filter((name) => name.startsWith('epoch-') && name.endsWith('.json'))).toEqual(['epoch-0000000001.json', 'epoch-0000000002.json'])
  })
})

describe('a lease directory emptied under its holder', () => {
  test('fences nobody (no newer epoch exists): the holder still holds, and its renewal writes its file again', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    rmSync(join(dir, 'epoch-0000000001.json'))
    expect(lease.isHeld()).toBe(true)
    lease.renew()
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'a', epoch: 1 })
  })
})

describe('a lease directory its holder cannot read for a moment', () => {
  /**
   * The fencing check reads the directory only when the holder's own epoch file is not found. A stat that fails (an
   * NFS share gone for a moment, EACCES) reads as "not found", so a listing that failed too threw its I/O error out of
   * isHeld: the log took it, at its check before or after a batch, for a failed write (WalFatalError, and an HA node
   * then exits), and renewLease's retry, asking isHeld again, threw out of the node's timer. Not being able to look is
   * no evidence of a newer epoch: the holder's clocks bound the lease, as they do when the stat of n+1 fails.
   */
  test('answers from its clocks instead of throwing the I/O error, and is fenced again once it can look', async () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const trouble = { on: false }
    const io = {
      ...nodeIo,
      exists: (path: string) => !(trouble.on && path.endsWith('.json')) && nodeIo.exists(path),
      fileIdentity: (path: string) => (trouble.on && path.endsWith('.json') ? null : nodeIo.fileIdentity(path)),
      readdir: (path: string) => {
        if (trouble.on) throw Object.assign(new Error(`EIO: i/o error, scandir '${path}'`), { code: 'EIO' })
        return nodeIo.readdir(path)
      },
    }
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, io })
    const wal = Wal.open(tempDir(), { lease, epoch: lease.epoch })
    trouble.on = true
    expect(lease.isHeld()).toBe(true)
    expect(() => lease.assertHeld()).not.toThrow()
    // The log's checks around a batch: the append is acknowledged, and the log lives on.
    expect(await wal.append([record('while the directory is unreadable')])).toEqual([1])
    expect(wal.fatalError).toBeNull()
    await wal.close()
    clock.advance(1000)
    expect(leaseCode(() => lease.assertHeld())).toBe('LEASE_LOST')
    trouble.on = false
    // A newer epoch taken meanwhile still fences it as soon as the directory can be read.
    clock.advance(200)
    expect(Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }).epoch).toBe(2)
    expect(lease.isHeld()).toBe(false)
  })
})

describe('a holder whose wall clock steps back', () => {
  /**
   * The holder judged its own expiry by the wall clock alone: stepped back an hour (NTP), its lease read as held for
   * an hour past the moment the other node could take it — with cached lookups on NFS, or once the fence files were
   * tidied, nothing else stopped it acknowledging and sending. Its own expiry runs on a monotonic clock too.
   */
  /** A lease of TTL 1000 ms taken with a wall clock and a monotonic clock the spec moves apart. */
  function twoClockLease(): { lease: Lease; wall: ReturnType<typeof manualClock>; monotonic: ReturnType<typeof manualClock> } {
    const wall = manualClock(10_000_000)
    const monotonic = manualClock(0)
    const lease = Lease.acquire({ dir: tempDir(), holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: wall.nowMs, monotonicNowMs: monotonic.nowMs })
    return { lease, wall, monotonic }
  }

  test('stops holding once its lease time has passed on the monotonic clock', () => {
    const { lease, wall, monotonic } = twoClockLease()
    monotonic.advance(600)
    wall.advance(600 - 3_600_000)
    expect(lease.isHeld()).toBe(true)
    lease.renew()
    monotonic.advance(999)
    expect(lease.isHeld()).toBe(true)
    monotonic.advance(1)
    expect(lease.isHeld()).toBe(false)
    expect(leaseCode(() => lease.renew())).toBe('LEASE_LOST')
  })

  test('a wall clock stepped forward still ends the lease early (the record other nodes read is in wall time)', () => {
    const { lease, wall } = twoClockLease()
    wall.advance(1000)
    expect(lease.isHeld()).toBe(false)
  })
})

describe('a lease whose expiry lies ahead of the taker\'s clock (its holder\'s clock ahead)', () => {
  test('is taken with epoch + 1 when the caller saw that very record unchanged for longer than it could be held', () => {
    const dir = tempDir()
    const ahead = manualClock(1_000_000 + 3_600_000)
    Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: ahead.nowMs })
    const clock = manualClock(1_000_000)
    expect(leaseCode(() => Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }))).toBe('LEASE_HELD')
    const seen = readCurrentLease(dir)
    if (seen === null) throw new Error('no lease')
    expect(Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, stalled: seen }).epoch).toBe(2)
  })

  test('is not taken when the record has changed since (its holder renewed it)', () => {
    const dir = tempDir()
    const ahead = manualClock(1_000_000 + 3_600_000)
    const a = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: ahead.nowMs })
    const seen = readCurrentLease(dir)
    if (seen === null) throw new Error('no lease')
    ahead.advance(250)
    a.renew()
    const clock = manualClock(1_000_000)
    expect(leaseCode(() => Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, stalled: seen }))).toBe('LEASE_HELD')
  })
})

describe('a holder paused between its check and its write (a zombie)', () => {
  /**
   * A renewal checks the lease, then renames its record into place. A holder paused between the two (a GC pause, a VM
   * frozen, SIGSTOP: in the normal run a few microseconds) while five takers followed found, on waking, its epoch file
   * and the next one tidied away — and its rename re-created its own file. The check after the write (two stats:
   * n + 1 missing, n present) then read "held": the zombie renewed, acknowledged and sent as a second leader. The
   * same window sat in a taker between reading the current epoch and linking the next: a link whose name had been
   * taken and tidied since succeeded. Takers that run while `during` is called on the paused holder's write.
   */
  function takersDuring(dir: string, call: 'rename' | 'link', takers: number): { io: typeof nodeIo; armed: { on: boolean } } {
    const armed = { on: false }
    const later = manualClock(2_000_000)
    const runTakers = (): void => {
      armed.on = false
      const current = readCurrentLease(dir)?.epoch ?? 0
      for (let epoch = current + 1; epoch <= current + takers; epoch++) {
        later.advance(10_000)
        expect(Lease.acquire({ dir, holderId: `t${epoch}`, ttlMs: 1000, clockSkewMsMax: 100, nowMs: later.nowMs }).epoch).toBe(epoch)
      }
    }
    const io = {
      ...nodeIo,
      rename: (from: string, to: string) => {
        if (call === 'rename' && armed.on && to.endsWith('.json')) runTakers()
        nodeIo.rename(from, to)
      },
      link: (from: string, to: string) => {
        if (call === 'link' && armed.on) runTakers()
        nodeIo.link(from, to)
      },
    }
    return { io, armed }
  }

  test('a renewal that re-created its own tidied epoch file finds the newer epochs and is LEASE_LOST, for good', async () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000) // the zombie's clocks stand still through its pause: only fencing can tell
    const { io, armed } = takersDuring(dir, 'rename', 5)
    const zombie = Lease.acquire({ dir, holderId: 'zombie', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, io })
    const wal = Wal.open(tempDir(), { lease: zombie, epoch: zombie.epoch })
    armed.on = true
    expect(leaseCode(() => zombie.renew())).toBe('LEASE_LOST')
    // Its rename did re-create its file (epoch 2, the next one, is gone), yet every later check says lost.
    expect([existsSync(join(dir, 'epoch-0000000001.json')), existsSync(join(dir, 'epoch-0000000002.json'))]).toEqual([true, false])
    expect(zombie.isHeld()).toBe(false)
    await expect(wal.append([record('a zombie write')])).rejects.toBeInstanceOf(LeaseError)
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 't6', epoch: 6 })
    await wal.close().catch(() => undefined)
  })

  test('a taker whose link re-created an epoch taken and tidied meanwhile loses the race, holding nothing', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    Lease.acquire({ dir, holderId: 'first', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }).release()
    clock.advance(10)
    const { io, armed } = takersDuring(dir, 'link', 6)
    armed.on = true
    // It read epoch 1 as current and links epoch 2 — after epochs 2..7 were taken, and 2 and 3 tidied by the taker of 7.
    expect(leaseCode(() => Lease.acquire({ dir, holderId: 'late', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, io }))).toBe('LEASE_RACE_LOST')
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 't7', epoch: 7 })
  })

  test('a renewal that finds no newer epoch still holds (a directory emptied by hand fences nobody)', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const { io } = takersDuring(dir, 'rename', 0)
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, io })
    rmSync(join(dir, 'epoch-0000000001.json'))
    lease.renew()
    expect(lease.isHeld()).toBe(true)
  })
})
