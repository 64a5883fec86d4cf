import { afterAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyLogDirectory } from '../../src/audit/index.ts'
import { removeTempDirs, tempDir, testKeys } from './support.ts'

afterAll(removeTempDirs)

const WRITER = join(import.meta.dir, 'fixtures', 'sealing-writer.ts')

async function startWriter(dir: string, keyPath: string) {
  const child = Bun.spawn([process.execPath, WRITER, dir, keyPath], { stdout: 'pipe', stderr: 'inherit' })
  const reader = child.stdout.getReader()
  const { value } = await reader.read()
  expect(new TextDecoder().decode(value)).toContain('ready')
  return child
}

/** What `cp -r` does: list once, then copy each file, while the writer keeps going. */
function copyLive(from: string, to: string): void {
  mkdirSync(to, { recursive: true })
  for (const name of readdirSync(from)) {
    try {
      copyFileSync(join(from, name), join(to, name))
    } catch (error) {
      // A segment-roll temp file renamed away after the listing: cp would report it, the copy is still usable.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
}

describe('verifying a log that is being written', () => {
  test('copies taken while a writer appends and seals verify clean (a torn tail is reported, not an error)', async () => {
    const keys = await testKeys()
    const keyPath = join(tempDir('egress-audit-key-'), 'seal.jwk.json')
    writeFileSync(keyPath, JSON.stringify(keys.privateJwk), { mode: 0o600 })
    const dir = tempDir('egress-audit-live-')
    const writer = await startWriter(dir, keyPath)
    let tornTails = 0
    let sealsSeen = 0
    try {
      for (let round = 0; round < 30; round++) {
        await Bun.sleep(10)
        const copy = join(tempDir('egress-audit-live-copy-'), 'log')
        copyLive(dir, copy)
        const report = await verifyLogDirectory(copy, { publicKey: keys.publicJwk })
        expect(report.problems).toEqual([])
        if (report.tornTail !== null) tornTails++
        sealsSeen = Math.max(sealsSeen, report.seals.checked)
      }
    } finally {
      writer.kill('SIGKILL')
      await writer.exited
    }
    expect(sealsSeen).toBeGreaterThan(0)
    console.error(`live copies: 30 verified clean, ${tornTails} with a torn tail, up to ${sealsSeen} seals each`)

    // The original after a kill -9 (the crash case) verifies too.
    const crashed = await verifyLogDirectory(dir, { publicKey: keys.publicJwk })
    expect(crashed.problems).toEqual([])
    expect(crashed.records).toBeGreaterThan(0)
  }, 30_000)
})
