import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Wal, WalClosedError, WalFullError, WalRecordError, openReadOnly, toHex } from '../../wal/index.ts'
import { countingIo, record, removeTempDirs, tempDir, text } from './support.ts'

afterEach(removeTempDirs)

describe('append and group commit', () => {
  test('LSNs are dense from 1 and reads return byte-identical payloads', async () => {
    const wal = Wal.open(tempDir())
    const first = await wal.append([record('a'), record('b')])
    const second = await wal.append([record('c')])
    expect(first).toEqual([1, 2])
    expect(second).toEqual([3])
    expect(Array.from(wal.read(1), (frame) => [frame.lsn, text(frame.payload)])).toEqual([[1, 'a'], [2, 'b'], [3, 'c']])
    await wal.close()
  })

  test('concurrent appends share one write and one fdatasync', async () => {
    const io = countingIo()
    const wal = Wal.open(tempDir(), { io, preallocateBytes: 0 })
    const before = { ...io.counts }
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => wal.append([record(`r${index}`)])))
    expect(results.flat()).toEqual(Array.from({ length: 50 }, (_, index) => index + 1))
    expect(io.counts.write - before.write).toBe(1)
    expect(io.counts.fdatasync - before.fdatasync).toBe(1)
    expect(wal.stats.batchCount).toBe(1)
    await wal.close()
  })

  test('durability "none" never calls fdatasync and is observable', async () => {
    const io = countingIo()
    const wal = Wal.open(tempDir(), { io, durability: 'none' })
    await wal.append([record('x')])
    expect(io.counts.fdatasync).toBe(0)
    expect(wal.durability).toBe('none')
    expect(Wal.open(tempDir()).durability).toBe('fsync')
    await wal.close()
  })

  test('a full queue rejects with WalFullError and writes nothing for that append', async () => {
    const wal = Wal.open(tempDir(), { queueRecordsMax: 3 })
    const accepted = wal.append([record('1'), record('2')])
    await expect(wal.append([record('3'), record('4')])).rejects.toBeInstanceOf(WalFullError)
    expect(await accepted).toEqual([1, 2])
    expect(wal.lastLsn).toBe(2)
    await expect(wal.append([record('3')])).resolves.toEqual([3])
    await wal.close()
  })

  test('the byte bound of the queue is enforced too', async () => {
    const wal = Wal.open(tempDir(), { queueBytesMax: 200 })
    await expect(wal.append([record('x'.repeat(300))])).rejects.toBeInstanceOf(WalFullError)
    expect(wal.lastLsn).toBe(0)
    await wal.close()
  })

  test('batches respect batchRecordsMax', async () => {
    const io = countingIo()
    const wal = Wal.open(tempDir(), { io, batchRecordsMax: 10 })
    const before = io.counts.fdatasync
    await Promise.all(Array.from({ length: 35 }, () => wal.append([record('r')])))
    expect(io.counts.fdatasync - before).toBe(4)
    await wal.close()
  })

  test('an invalid record is refused and nothing is written', async () => {
    const wal = Wal.open(tempDir())
    await expect(wal.append([record('ok'), { type: 1, version: -1, payload: new Uint8Array() }])).rejects.toBeInstanceOf(WalRecordError)
    expect(wal.lastLsn).toBe(0)
    await wal.close()
  })

  test('invalid options are refused with the field named', () => {
    expect(() => Wal.open(tempDir(), { segmentBytesMax: 10 })).toThrow(/segmentBytesMax must be an integer ≥ 4096, got 10/)
    expect(() => Wal.open(tempDir(), { durability: 'sometimes' as 'none' })).toThrow(/durability must be/)
  })

  test('a closed log refuses appends but keeps what it acknowledged', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir)
    const pending = wal.append([record('last')])
    await wal.close()
    expect(await pending).toEqual([1])
    await expect(wal.append([record('late')])).rejects.toBeInstanceOf(WalClosedError)
    const reopened = Wal.open(dir)
    expect(reopened.lastLsn).toBe(1)
    await reopened.close()
  })
})

describe('appendTo (a caller that is its own waiter)', () => {
  /** A waiter that records what it was told, checking it is called as a method of itself, once. */
  class Recorder {
    told: { lsns?: number[]; error?: Error }[] = []
    resolve(lsns: number[]): void {
      expect(this).toBeInstanceOf(Recorder)
      this.told.push({ lsns })
    }
    reject(error: Error): void {
      expect(this).toBeInstanceOf(Recorder)
      this.told.push({ error })
    }
  }

  test('durable: resolve is called once with the LSNs, in LSN order with the batch, after the sync', async () => {
    const io = countingIo()
    const wal = Wal.open(tempDir(), { io, preallocateBytes: 0 })
    const order: string[] = []
    const first = new Recorder()
    const second = new Recorder()
    first.resolve = function (lsns) {
      order.push(`first ${lsns.join(',')} after ${io.counts.fdatasync} syncs`)
      Recorder.prototype.resolve.call(this, lsns)
    }
    second.resolve = function (lsns) {
      order.push(`second ${lsns.join(',')}`)
      Recorder.prototype.resolve.call(this, lsns)
    }
    const syncsBefore = io.counts.fdatasync
    wal.appendTo([record('a'), record('b')], first)
    wal.appendTo([record('c')], second)
    expect(first.told).toEqual([])
    await wal.append([])
    await wal.close()
    expect(order).toEqual([`first 1,2 after ${syncsBefore + 1} syncs`, 'second 3'])
    expect(first.told).toEqual([{ lsns: [1, 2] }])
    expect(second.told).toEqual([{ lsns: [3] }])
  })

  test('refused: reject is called before appendTo returns, with the errors append rejects with, and nothing is written', async () => {
    const wal = Wal.open(tempDir(), { queueRecordsMax: 2 })
    const full = new Recorder()
    wal.appendTo([record('1'), record('2'), record('3')], full)
    expect(full.told).toHaveLength(1)
    expect(full.told[0]?.error).toBeInstanceOf(WalFullError)
    const invalid = new Recorder()
    wal.appendTo([{ type: 1, version: -1, payload: new Uint8Array() }], invalid)
    expect(invalid.told[0]?.error).toBeInstanceOf(WalRecordError)
    await wal.close()
    const closed = new Recorder()
    wal.appendTo([record('late')], closed)
    expect(closed.told[0]?.error).toBeInstanceOf(WalClosedError)
    expect(wal.lastLsn).toBe(0)
  })
})

describe('segments', () => {
  test('segments roll at the size limit, are named by first LSN, and each roll fsyncs the directory', async () => {
    const dir = tempDir()
    const io = countingIo()
    const wal = Wal.open(dir, { io, segmentBytesMax: 4096 })
    const directorySyncsAtOpen = io.counts.fsyncDirectory
    for (let index = 0; index < 100; index++) await wal.append([record('y'.repeat(100))])
    const names = readdirSync(dir).filter((name) => name.endsWith('.seg')).sort()
    expect(names.length).toBeGreaterThan(3)
    expect(names[0]).toBe('00000000000000000001.seg')
    expect(io.counts.fsyncDirectory - directorySyncsAtOpen).toBe(names.length - 1)
    for (const name of names) expect(Bun.file(join(dir, name)).size).toBeLessThanOrEqual(4096)
    await wal.close()
    const reopened = Wal.open(dir, { segmentBytesMax: 4096 })
    expect(reopened.lastLsn).toBe(100)
    expect([...reopened.read(1, { verifyChain: true })].length).toBe(100)
    await reopened.close()
  })

  test('one batch that crosses the size limit is split across segments between its appends, without losing order', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir, { segmentBytesMax: 4096 })
    // Appended in one turn: one batch of 60 appends.
    await Promise.all(Array.from({ length: 60 }, (_, index) => wal.append([record(`${index}`.padEnd(150, '.'))])))
    expect(wal.stats.batchCount).toBe(1)
    expect(wal.segments.length).toBeGreaterThan(2)
    // Payloads are read while iterating: a frame's views are valid until the next frame (the read buffer is reused).
    expect(Array.from(wal.read(1), (frame) => text(frame.payload).replace(/\.+$/, ''))).toEqual(Array.from({ length: 60 }, (_, index) => `${index}`))
    await wal.close()
  })

  test('an append never straddles segments: a roll comes before it, and one larger than a segment gets a segment of its own', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir, { segmentBytesMax: 4096 })
    await wal.append(Array.from({ length: 10 }, (_, index) => record(`a${index}`.padEnd(150, '.'))))
    await wal.append(Array.from({ length: 20 }, (_, index) => record(`b${index}`.padEnd(150, '.'))))
    await wal.append(Array.from({ length: 3 }, (_, index) => record(`c${index}`.padEnd(150, '.'))))
    expect(wal.segments.map((segment) => [segment.firstLsn, segment.lastLsn])).toEqual([[1, 10], [11, 30], [31, 33]])
    await wal.close()
    const reopened = Wal.open(dir, { segmentBytesMax: 4096 })
    expect(reopened.lastLsn).toBe(33)
    expect(reopened.recovery.tornTail).toBeNull()
    expect([...reopened.read(1, { verifyChain: true })].length).toBe(33)
    await reopened.close()
  })

  test('removeSegmentsBelow deletes or archives only whole segments below the LSN and fsyncs the directory', async () => {
    const dir = tempDir()
    const archive = join(tempDir(), 'archive')
    const io = countingIo()
    const wal = Wal.open(dir, { io, segmentBytesMax: 4096 })
    for (let index = 0; index < 100; index++) await wal.append([record('z'.repeat(100))])
    const second = wal.segments[1]
    if (second === undefined) throw new Error('expected several segments')
    const syncs = io.counts.fsyncDirectory
    expect(wal.removeSegmentsBelow(second.lastLsn, { archiveDir: archive }).length).toBe(1) // second is not wholly below
    const removed = ['00000000000000000001.seg', ...wal.removeSegmentsBelow(second.lastLsn + 1, { archiveDir: archive })]
    expect(removed.length).toBe(2)
    expect(io.counts.fsyncDirectory).toBeGreaterThan(syncs)
    expect(readdirSync(archive).sort()).toEqual(removed)
    expect(wal.firstLsn).toBe(second.lastLsn + 1)
    // The last segment is never removed, whatever the LSN.
    wal.removeSegmentsBelow(10 ** 9)
    expect(wal.segments.length).toBe(1)
    expect(wal.lastLsn).toBe(100)
    await wal.close()
    // The compacted log opens, anchored at the chain head stored in its first segment's header.
    const reopened = Wal.open(dir, { segmentBytesMax: 4096 })
    expect(reopened.firstLsn).toBeGreaterThan(1)
    expect(reopened.lastLsn).toBe(100)
    expect([...reopened.read(1, { verifyChain: true })][0]?.lsn).toBe(reopened.firstLsn)
    await reopened.close()
    expect(existsSync(join(dir, removed[0] as string))).toBe(false)
  })
})

describe('readers', () => {
  test('reading from any LSN uses the sparse index and returns exactly the tail', async () => {
    const wal = Wal.open(tempDir(), { indexStrideFrames: 4, segmentBytesMax: 8192 })
    await wal.append(Array.from({ length: 200 }, (_, index) => record(`n${index + 1}`)))
    for (const from of [1, 3, 4, 5, 57, 128, 199, 200]) {
      const lsns = [...wal.read(from)].map((frame) => frame.lsn)
      expect(lsns[0]).toBe(from)
      expect(lsns.length).toBe(201 - from)
    }
    expect([...wal.read(201)]).toEqual([])
    expect(Array.from(wal.read(10, { toLsn: 12, verifyChain: true }), (frame) => text(frame.payload))).toEqual(['n10', 'n11', 'n12'])
    await wal.close()
  })

  test('a read-only open reports the same head as the writer and never modifies files', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir)
    await wal.append([record('a'), record('b')])
    const readOnly = openReadOnly(dir)
    expect(readOnly.lastLsn).toBe(2)
    expect(toHex(readOnly.chainHead)).toBe(toHex(wal.chainHead))
    await wal.close()
  })
})
