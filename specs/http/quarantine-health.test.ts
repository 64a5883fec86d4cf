/**
 * The data dir's quarantine/ (bytes cut from the log's torn tails, kept as evidence: nothing deletes them) is shown,
 * not left to pile up unseen: egress_wal_quarantine_files and egress_wal_quarantine_bytes say what it held when the
 * log was opened, and /health's `log.quarantine` says review_needed once it holds more than wal.quarantineFilesWarn
 * files or wal.quarantineBytesWarn bytes. A cut's unfinished temp file is not counted.
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { json, startTestGateway, type TestGateway } from './fixture.ts'
import { parseExposition } from './metrics/exposition.ts'

let t: TestGateway | null = null
const dirs: string[] = []
afterEach(async () => {
  await t?.stop()
  t = null
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A data dir whose quarantine/ holds files of these sizes (and an interrupted cut's temp file). */
function dataDirWith(sizes: number[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-quarantine-'))
  dirs.push(dir)
  mkdirSync(join(dir, 'quarantine'))
  sizes.forEach((size, index) => writeFileSync(join(dir, 'quarantine', `0000000000000000000${index + 1}.seg.4096.tail`), new Uint8Array(size).fill(7)))
  writeFileSync(join(dir, 'quarantine', '00000000000000000009.seg.512.tail.tmp'), new Uint8Array(1000))
  return dir
}

async function quarantineOf(gateway: TestGateway): Promise<{ health: unknown; files: number | undefined; bytes: number | undefined }> {
  const body = (await json(await gateway.request('/health'))) as { log: { quarantine: unknown } }
  const metrics = parseExposition(await (await gateway.request('/metrics')).text())
  expect(metrics.problems).toEqual([])
  const value = (name: string): number | undefined => metrics.families.get(name)?.samples[0]?.value
  return { health: body.log.quarantine, files: value('egress_wal_quarantine_files'), bytes: value('egress_wal_quarantine_bytes') }
}

test('the metrics say how many quarantine files there are and their bytes; below the threshold no review is asked', async () => {
  t = await startTestGateway({ config: { dataDir: dataDirWith([10, 20, 30]), wal: { durability: 'none', quarantineFilesWarn: 3 } } })
  expect(await quarantineOf(t)).toEqual({ health: { files: 3, bytes: 60, review_needed: false }, files: 3, bytes: 60 })
})

test('past wal.quarantineFilesWarn files, /health asks for a review (ready is not touched)', async () => {
  t = await startTestGateway({ config: { dataDir: dataDirWith([10, 20, 30, 40]), wal: { durability: 'none', quarantineFilesWarn: 3 } } })
  expect(await quarantineOf(t)).toEqual({ health: { files: 4, bytes: 100, review_needed: true }, files: 4, bytes: 100 })
  expect((await t.request('/health')).status).toBe(200)
})

test('past wal.quarantineBytesWarn bytes, /health asks for a review', async () => {
  t = await startTestGateway({ config: { dataDir: dataDirWith([600, 600]), wal: { durability: 'none', quarantineBytesWarn: 1000 } } })
  expect((await quarantineOf(t)).health).toEqual({ files: 2, bytes: 1200, review_needed: true })
})

test('a data dir without quarantine/ shows zero files', async () => {
  t = await startTestGateway()
  expect(await quarantineOf(t)).toEqual({ health: { files: 0, bytes: 0, review_needed: false }, files: 0, bytes: 0 })
})

test("a torn tail the log's open cuts is counted with the files there before", async () => {
  const dataDir = dataDirWith([10])
  const config = { dataDir, wal: { durability: 'none' } }
  t = await startTestGateway({ config })
  await t.stop()
  const logDir = join(dataDir, 'log')
  const last = readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort().at(-1) as string
  const bytes = readFileSync(join(logDir, last))
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff
  writeFileSync(join(logDir, last), bytes)
  // As a crash would have left it: no shutdown snapshot past the cut.
  rmSync(join(dataDir, 'snapshots'), { recursive: true, force: true })
  t = await startTestGateway({ config })
  expect(t.gateway.engine.wal.recovery.tornTail?.quarantineFile).toStartWith(join(dataDir, 'quarantine'))
  const shown = await quarantineOf(t)
  expect(shown.files).toBe(2)
  expect(shown.health).toMatchObject({ files: 2, review_needed: false })
})
