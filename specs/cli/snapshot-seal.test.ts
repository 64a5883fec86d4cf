// `egress snapshot` seals the snapshot it writes with the data directory's seal key (the config's
// audit.signingKeyFile, or its local key), as a running gateway seals its own; with no key it writes it unsealed and
// says so. `egress audit verify DIR` and `egress replay-verify DIR` then report the seal (or its absence).
import { afterAll, expect, test } from 'bun:test'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureLocalSealKey } from '../../src/audit/index.ts'
import { removeDir, startWorld } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

async function stoppedDir(seed: number): Promise<string> {
  const world = await startWorld({ seed, snapshots: { atShutdown: false } })
  dirs.push(world.dir)
  await trade(world, { orders: 12, tag: 's', seed })
  await world.gateway.stop()
  return world.dir
}

const sealFiles = (dir: string): string[] => readdirSync(join(dir, 'snapshots')).filter((name) => name.endsWith('.snap.seal'))

test('with the data directory\'s local seal key: the snapshot is sealed, and audit verify and replay-verify say so', async () => {
  const dir = await stoppedDir(9201)
  await ensureLocalSealKey(dir)
  const written = await cli(['snapshot', dir])
  expect(written.code).toBe(0)
  expect(written.out).toMatch(/seal: signed with key /)
  expect(sealFiles(dir)).toHaveLength(1)
  const audit = await cli(['audit', 'verify', dir, '--no-anchors'])
  expect(audit.code).toBe(0)
  expect(audit.out).toContain('snapshots 1 file(s): 1 sealed (signatures verified), 0 unsealed; 1 signed head(s) checked against the log')
  const replay = await cli(['replay-verify', dir])
  expect(replay.code).toBe(0)
  expect(replay.out).toContain('seals      1 snapshot(s) sealed (signatures verified), 0 unsealed')
})

test('with no seal key: written unsealed and said so; audit verify passes, reporting it unsealed', async () => {
  const dir = await stoppedDir(9202)
  const written = await cli(['snapshot', dir])
  expect(written.code).toBe(0)
  expect(written.out).toContain('seal: none — no seal key')
  expect(sealFiles(dir)).toEqual([])
  expect(existsSync(join(dir, 'audit'))).toBe(false)
  const replay = await cli(['replay-verify', dir])
  expect(replay.code).toBe(0)
  expect(replay.out).toContain('0 snapshot(s) sealed (signatures NOT checked: no key), 1 unsealed')
  const audit = await cli(['audit', 'verify', dir, '--no-signatures', '--no-anchors'])
  expect(audit.code).toBe(0)
  expect(audit.out).toContain('0 sealed (signatures NOT checked), 1 unsealed')
})

test('a snapshot at the last LSN whose seal file is damaged is not current: a new one replaces it, the damaged seal gone', async () => {
  const world = await startWorld({ seed: 9203 })
  dirs.push(world.dir)
  await trade(world, { orders: 8, tag: 'd', seed: 9203 })
  await world.gateway.stop() // the shutdown snapshot, unsealed (no key)
  const [file] = readdirSync(join(world.dir, 'snapshots')).filter((name) => name.endsWith('.snap')) as [string]
  writeFileSync(join(world.dir, 'snapshots', `${file}.seal`), 'not a seal')
  const written = await cli(['snapshot', world.dir])
  expect(written.code).toBe(0)
  expect(written.out).toContain(`snapshot ${file} written`)
  expect(sealFiles(world.dir)).toEqual([])
  const again = await cli(['snapshot', world.dir])
  expect(again.out).toContain('already current')
})
