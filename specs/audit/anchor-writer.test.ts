import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AnchorWriter, anchorLine, readAnchorsFile, type SealResult } from '../../src/audit/index.ts'

const root = mkdtempSync(join(tmpdir(), 'egress-anchor-writer-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A seal as the Sealer answers it (the JWS is not checked here; the anchors file's reader takes any string). */
function sealAt(recordLsn: number): SealResult {
  const claims = { lsn: recordLsn - 1, chainHead: recordLsn.toString(16).padStart(64, '0'), epoch: 1, sealedAtMs: recordLsn * 1000, prevSealLsn: 0 }
  return { recordLsn, claims, jws: `header.${'p'.repeat(300)}.signature` }
}

function writerIn(name: string, options: { everyMs?: number; fileBytesMax?: number } = {}): { writer: AnchorWriter; path: string; errors: string[] } {
  const path = join(root, name, 'anchors.jsonl')
  const writer = new AnchorWriter({ path, everyMs: options.everyMs ?? 1_000, fileBytesMax: options.fileBytesMax ?? 1024 * 1024 })
  const errors: string[] = []
  writer.onError = (error, context) => void errors.push(`${context}: ${String(error)}`)
  return { writer, path, errors }
}

describe('the anchor writer', () => {
  test('a write that fails part way (a full disk) leaves no torn line for the next anchor to follow', async () => {
    const path = join(root, 'disk-full', 'anchors.jsonl')
    let failNext = false
    const writer = new AnchorWriter({
      path,
      everyMs: 1,
      fileBytesMax: 1024 * 1024,
      openFile: async (file, flags, mode) => {
        const handle = await open(file, flags, mode)
        if (!failNext) return handle
        failNext = false
        // The disk takes half the line, then is full.
        handle.write = (async (bytes: Uint8Array) => {
          await handle.appendFile(bytes.subarray(0, bytes.byteLength >> 1))
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        }) as unknown as typeof handle.write
        return handle
      },
    })
    const errors: string[] = []
    writer.onError = (error, context) => void errors.push(`${context}: ${String(error)}`)
    for (const [recordLsn, fail] of [[10, false], [20, true], [30, false]] as const) {
      failNext = fail
      writer.offer(sealAt(recordLsn), recordLsn)
      await writer.idle()
    }
    expect(readAnchorsFile(path).map((anchor) => anchor.lsn)).toEqual([9, 29])
    expect({ written: writer.written, failures: writer.failures }).toEqual({ written: 2, failures: 1 })
    expect(errors).toHaveLength(1)
  })

  test('at most one anchor per everyMs; a forced one (shutdown) whatever the spacing; a seal never twice', async () => {
    const { writer, path, errors } = writerIn('spacing')
    for (const [recordLsn, nowMs, atShutdown] of [[10, 0, false], [20, 999, false], [30, 1_000, false], [40, 1_001, true], [40, 5_000, true]] as const) {
      writer.offer(sealAt(recordLsn), nowMs, { atShutdown })
      await writer.idle()
    }
    expect(readAnchorsFile(path).map((anchor) => anchor.lsn)).toEqual([9, 29, 39])
    expect({ written: writer.written, failures: writer.failures, errors }).toEqual({ written: 3, failures: 0, errors: [] })
  })

  test('seals offered while a write is under way leave only the newest waiting: one write at a time, one queued', async () => {
    const { writer, path } = writerIn('coalescing')
    writer.offer(sealAt(10), 0)
    for (let index = 2; index <= 50; index++) writer.offer(sealAt(index * 10), index * 1_000)
    await writer.idle()
    expect(readAnchorsFile(path).map((anchor) => anchor.lsn)).toEqual([9, 499])
  })

  test('the file is bounded: the line that would pass fileBytesMax starts a new file, the old one kept as FILE.1', async () => {
    const lineBytes = anchorLine(sealAt(10)).length
    const { writer, path } = writerIn('rotation', { everyMs: 1, fileBytesMax: lineBytes * 3 + 10 })
    for (let index = 1; index <= 7; index++) {
      writer.offer(sealAt(index * 10), index * 10)
      await writer.idle()
    }
    expect(readAnchorsFile(`${path}.1`).map((anchor) => anchor.lsn)).toEqual([39, 49, 59])
    expect(readAnchorsFile(path).map((anchor) => anchor.lsn)).toEqual([69])
    expect(existsSync(`${path}.2`)).toBe(false)
  })

  test('a torn last line (a power cut mid-append) is cut off before the next anchor, so the file stays readable', async () => {
    const { writer, path } = writerIn('torn')
    writer.offer(sealAt(10), 0)
    await writer.idle()
    const whole = readFileSync(path, 'utf8')
    writeFileSync(path, `${whole}{"lsn":19,"chainHe\0\0\0`)
    expect(() => readAnchorsFile(path)).toThrow()
    const next = writerIn('torn').writer
    next.offer(sealAt(20), 0)
    await next.idle()
    expect(readAnchorsFile(path).map((anchor) => anchor.lsn)).toEqual([9, 19])
  })

  test('a FIFO or a directory at the path is a failed anchor, reported, not a write that hangs a file-system thread', async () => {
    const { writer, path, errors } = writerIn('fifo')
    mkdirSync(join(path, '..'), { recursive: true })
    expect(Bun.spawnSync(['mkfifo', path]).exitCode).toBe(0)
    writer.offer(sealAt(10), 0)
    await writer.idle()
    const other = writerIn('directory')
    mkdirSync(other.path, { recursive: true })
    other.writer.offer(sealAt(10), 0)
    await other.writer.idle()
    expect([writer.failures, other.writer.failures]).toEqual([1, 1])
    expect([...errors, ...other.errors].every((error) => error.includes('is not a regular file'))).toBe(true)
  })
})
