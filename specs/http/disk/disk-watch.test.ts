/**
 * DiskWatch (src/http/disk/disk-watch.ts) on its own: the real statfs reader, a read that hangs (a dead mount) counted
 * as failed after STALL_CHECKS intervals by a simulated clock, one read at a time, and the timer's start and stop.
 */

import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DiskWatch, readFreeBytes, STALL_CHECKS } from '../../../src/http/disk/index.ts'

describe('readFreeBytes (statfs)', () => {
  test("gives a positive whole number of bytes for an existing directory, and rejects once it is removed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-disk-'))
    const free = await readFreeBytes(dir)
    expect(Number.isSafeInteger(free) && free > 0).toBe(true)
    rmSync(dir, { recursive: true })
    await expect(readFreeBytes(dir)).rejects.toThrow('ENOENT')
  })

  test('a watch on a removed data dir reports the failure and does not throw', async () => {
    const dir = join(tmpdir(), `egress-disk-gone-${process.pid}`)
    const watch = new DiskWatch({ dir, freeBytesMin: 1, checkEveryMs: 1_000 })
    await watch.refresh()
    expect(watch.status).toMatchObject({ freeBytes: null, refusing: true })
    expect(watch.status.error).toContain('ENOENT')
  })
})

describe('a read that hangs', () => {
  test(`counts as failed after ${STALL_CHECKS} check intervals, and the answer when it comes ends the failure`, async () => {
    let nowMs = 0
    let answer: (freeBytes: number) => void = () => {}
    let reads = 0
    const lines: string[] = []
    const watch = new DiskWatch({
      dir: '/data',
      freeBytesMin: 100,
      checkEveryMs: 1_000,
      nowMs: () => nowMs,
      read: () => {
        reads++
        return new Promise((resolve) => (answer = resolve))
      },
      log: (line) => void lines.push(line),
    })
    void watch.refresh()
    nowMs = STALL_CHECKS * 1_000 - 1
    void watch.check()
    // No reading yet: refused already with a floor (not_read_yet), but no failure and no refusal begun.
    expect([reads, watch.refusal()?.reason, watch.status.error, watch.counts.refusalsBegun]).toEqual([1, 'not_read_yet', null, 0])
    nowMs = STALL_CHECKS * 1_000
    void watch.check()
    expect(reads).toBe(1)
    expect(watch.status).toEqual({ freeBytes: null, freeBytesMin: 100, refusing: true, error: 'statfs has not answered in 3000 ms' })
    expect(watch.refusal()).toEqual({ reason: 'unreadable', freeBytes: null, freeBytesMin: 100, retryAfterSec: 1 })
    answer(500)
    await watch.refresh()
    expect(watch.status).toEqual({ freeBytes: 500, freeBytesMin: 100, refusing: false, error: null })
    expect(watch.counts).toEqual({ readFailures: 1, refusalsBegun: 1 })
    expect(lines).toEqual([
      "cannot read the data dir's free space (/data): statfs has not answered in 3000 ms; new orders and amends are refused (DISK_LOW) until a read succeeds",
      "the data dir's free space can be read again (500 bytes free)",
      'the data dir has 500 bytes free, at or above storage.freeBytesMin 100: new orders and amends are accepted again',
    ])
  })
})

describe('the timer', () => {
  test('start reads at once and then every checkEveryMs; close stops it', async () => {
    let reads = 0
    const watch = new DiskWatch({ dir: '/data', freeBytesMin: 0, checkEveryMs: 100, read: async () => ++reads })
    await watch.start()
    expect(reads).toBe(1)
    await Bun.sleep(350)
    watch.close()
    const after = reads
    expect(after).toBeGreaterThanOrEqual(2)
    await Bun.sleep(250)
    expect(reads).toBe(after)
  })
})
