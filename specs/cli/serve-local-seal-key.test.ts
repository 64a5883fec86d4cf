/**
 * `egress serve` with the defaults (paper, no audit.signingKeyFile) seals its log with a local key it makes in the
 * data dir. Before, it wrote no seal at all: POST /v1/audit/anchor answered 409 AUDIT_SIGNING_KEY_MISSING and the
 * log had no seal, where the spec (004 §9) makes only the signature optional, not the seal.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'
import { localSealKeyPaths } from '../../src/audit/index.ts'
import { runCli } from '../../src/cli/index.ts'
import { recordingIo } from './io.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-seal-key-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('a default paper serve seals with a local key in <dataDir>/audit; audit verify checks the seals with its public half', async () => {
  const port = await freePort()
  const dataDir = join(dir, 'data')
  const env = { EGRESS_DATA_DIR: dataDir, PORT: String(port), EGRESS_WAL_DURABILITY: 'none' }
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], { cwd: ROOT, env: { ...process.env, ...env }, stdout: 'ignore', stderr: 'pipe' })
  let anchor: { lsn?: number; seal?: string } = {}
  try {
    await waitFor('serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok)
    const tokenIo = recordingIo({ EGRESS_DATA_DIR: dataDir })
    expect(await runCli(['token', '--sub', 'auditor-1', '--role', 'auditor'], tokenIo)).toBe(0)
    const response = await fetch(`http://127.0.0.1:${port}/v1/audit/anchor`, { method: 'POST', headers: { Authorization: `Bearer ${tokenIo.stdout.at(-1)}` } })
    const body = await response.text()
    expect({ status: response.status, body: response.status === 200 ? '' : body }).toEqual({ status: 200, body: '' })
    anchor = JSON.parse(body) as typeof anchor
    expect(typeof anchor.seal).toBe('string')
    child.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    expect(await new Response(child.stderr as ReadableStream).text()).toContain('seals signed with the local key')
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
  const { privatePath, publicPath } = localSealKeyPaths(dataDir)
  expect(statSync(join(dataDir, 'audit')).mode & 0o777).toBe(0o700)
  expect(statSync(privatePath).mode & 0o777).toBe(0o600)
  expect((JSON.parse(readFileSync(publicPath, 'utf8')) as { d?: string }).d).toBeUndefined()
  const verifyIo = recordingIo({})
  expect(await runCli(['audit', 'verify', dataDir, '--public-key', publicPath, '--json'], verifyIo)).toBe(0)
  const report = JSON.parse(verifyIo.stdout.join('\n')) as { ok: boolean; seals: { checked: number; signaturesChecked: boolean; last: { claims: { lsn: number } } | null } }
  expect(report.ok).toBe(true)
  expect(report.seals.signaturesChecked).toBe(true)
  // The anchor's seal (the shutdown writes none when nothing followed it).
  expect(report.seals.checked).toBeGreaterThanOrEqual(1)
  expect(report.seals.last?.claims.lsn).toBe(anchor.lsn as number)
  // With no option, verify of the data dir uses its local key and the anchors its gateway appended, and names both.
  const ownIo = recordingIo({})
  expect(await runCli(['audit', 'verify', dataDir], ownIo)).toBe(0)
  const summary = ownIo.stdout.join('\n')
  expect(summary).toContain(`  key       ${publicPath} (the data directory's local seal key`)
  expect(summary).toMatch(new RegExp(`  anchors   [1-9]\\d* checked, 0 before the log's start \\(from ${join(dataDir, 'audit', 'anchors.jsonl')}, the data directory's own\\)`))
}, 60_000)
