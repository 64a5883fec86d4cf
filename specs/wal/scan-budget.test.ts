// The search for a valid frame after damage (wal/frame-search.ts) is bounded: bytes that read as frame lengths at most
// offsets made it quadratic (8 MB of them a minute of CRC on open, a 64 MiB segment minutes). Offsets whose LSN the log
// cannot have written there are skipped before any CRC; past a budget of CRC work the search gives up, and the open
// then refuses (FRAME_CORRUPT) rather than cut what it could not look at. Work is asserted by the CRC counter.
import { afterEach, describe, expect, test } from 'bun:test'
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { diagnoseTail, FRAME_SEARCH_BASE_CRC_BYTES, frameSearchWork, Wal, WalCorruptionError, WalRepairError } from '../../wal/index.ts'
import { craftedFrameHeaders, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const WAL = { durability: 'none', preallocateBytes: 0 } as const
const RECORDS = 300
const FRAME_BYTES = 56 + 200

/** A closed log of RECORDS frames of FRAME_BYTES in one segment; its dir and segment path. */
async function smallLog(): Promise<{ dir: string; path: string }> {
  const dir = tempDir()
  const wal = Wal.open(dir, WAL)
  for (let lsn = 1; lsn <= RECORDS; lsn++) await wal.append([{ type: 5, version: 1, payload: new TextEncoder().encode(`record ${lsn}`.padEnd(200, 'x')) }])
  const path = wal.segments[0]?.path as string
  await wal.close()
  return { dir, path }
}

function openFailure(dir: string): WalCorruptionError {
  let wal: Wal
  try {
    wal = Wal.open(dir, WAL)
  } catch (error) {
    if (error instanceof WalCorruptionError) return error
    throw error
  }
  void wal.close()
  throw new Error(`the log opened (LSN ${wal.lastLsn}, torn tail ${JSON.stringify(wal.recovery.tornTail)})`)
}

/** Runs `body` and returns the CRC bytes frame searches computed meanwhile. */
function crcWorkOf(body: () => void): number {
  const before = frameSearchWork.crcBytes
  body()
  return frameSearchWork.crcBytes - before
}

describe('the search for a valid frame after damage, on open', () => {
  test('a tail crafted to read as frame headers everywhere is refused after a bounded search, never cut as a torn tail', async () => {
    const { dir, path } = await smallLog()
    const end = statSync(path).size
    // Ruling every offset out would take ~4 GiB of CRC (61k candidates of 64 KiB): the budget is spent first.
    appendFileSync(path, craftedFrameHeaders(1 << 20, RECORDS + 1))
    let failure: WalCorruptionError | null = null
    const work = crcWorkOf(() => {
      failure = openFailure(dir)
    })
    expect(failure as unknown as WalCorruptionError).toMatchObject({ code: 'FRAME_CORRUPT', location: { file: path, offsetBytes: end, lsn: RECORDS + 1 } })
    expect((failure as unknown as WalCorruptionError).message).toContain('gave up')
    expect(work).toBeGreaterThan(0)
    expect(work).toBeLessThanOrEqual(FRAME_SEARCH_BASE_CRC_BYTES + 2 * (1 << 20))
    // Nothing was cut: the refusal leaves the file as it was, and repair-tail will not cut what was not looked at.
    expect(statSync(path).size).toBe(end + (1 << 20))
    expect(() => diagnoseTail(dir)).toThrow(WalRepairError)
    expect(() => diagnoseTail(dir)).toThrow(/NOT_A_TORN_TAIL|gave up/)
  })

  test('the same bytes between damage and valid frames: refused at the damage, within the budget', async () => {
    const { dir, path } = await smallLog()
    const at = 64 + 99 * FRAME_BYTES
    const bytes = readFileSync(path)
    writeFileSync(path, Buffer.concat([bytes.subarray(0, at), craftedFrameHeaders(1 << 20, 100), bytes.subarray(at)]))
    let failure: WalCorruptionError | null = null
    const work = crcWorkOf(() => {
      failure = openFailure(dir)
    })
    expect(failure as unknown as WalCorruptionError).toMatchObject({ code: 'FRAME_CORRUPT', location: { file: path, offsetBytes: at, lsn: 100 } })
    expect((failure as unknown as WalCorruptionError).message).toContain('gave up')
    expect(work).toBeLessThanOrEqual(FRAME_SEARCH_BASE_CRC_BYTES + 2 * (bytes.byteLength - at + (1 << 20)))
  })

  test('bytes with a plausible length at every other offset but no LSN the log could hold there cost no CRC: a torn tail, cut as before', async () => {
    const { dir, path } = await smallLog()
    const end = statSync(path).size
    // The review's repro: before, 2 MB of this took ~8 s of CRC (~1 MiB at every fourth offset) to rule out.
    appendFileSync(path, craftedFrameHeaders(2_000_000, null))
    let wal: Wal | null = null
    const work = crcWorkOf(() => {
      wal = Wal.open(dir, WAL)
    })
    const opened = wal as unknown as Wal
    expect({ lastLsn: opened.lastLsn, tornAt: opened.recovery.tornTail?.offsetBytes, work }).toEqual({ lastLsn: RECORDS, tornAt: end, work: 0 })
    await opened.close()
    expect(statSync(path).size).toBe(end)
  })
})
