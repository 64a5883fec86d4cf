/**
 * `egress audit` on hostile files: an anchors file and segment files that are not what they claim. Each is refused
 * with one line on stderr naming the file (and the line), a stable code and exit 1 — never node's bare message.
 *
 * Before: `--anchors /dev/zero` read until the process ran out of memory; an anchors line that was not JSON said only
 * `JSON Parse error: Unexpected identifier "not"` (no file, no line); a directory given as the anchors file, or one
 * under a segment's name in the log, said `EISDIR: illegal operation on a directory, read` (no file at all).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from '../../src/cli/index.ts'
import { removeTempDirs, sealedLog, tempDir, testKeys } from '../audit/support.ts'
import { recordingIo } from './io.ts'

let dataDir: string

beforeAll(async () => {
  dataDir = tempDir('egress-cli-audit-inputs-')
  await sealedLog(join(dataDir, 'log'), await testKeys(), { records: 20, sealEvery: 10 })
})
afterAll(removeTempDirs)

async function audit(argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const io = recordingIo()
  const code = await runCli(argv, io)
  return { code, stdout: io.stdout, stderr: io.stderr }
}

describe('egress audit verify --anchors FILE', () => {
  test('/dev/zero is refused at its first line (ANCHORS_UNREADABLE), not read until memory runs out', async () => {
    expect(await audit(['audit', 'verify', dataDir, '--no-signatures', '--anchors', '/dev/zero'])).toEqual({
      code: 1,
      stdout: [],
      stderr: ['egress audit: ANCHORS_UNREADABLE: anchors file /dev/zero: line 1 is longer than 65536 bytes, which no anchor is'],
    })
  })

  test('a directory or a missing file: ANCHORS_UNREADABLE naming it', async () => {
    const dir = tempDir('egress-cli-anchors-dir-')
    expect((await audit(['audit', 'verify', dataDir, '--no-signatures', '--anchors', dir])).stderr).toEqual([
      `egress audit: ANCHORS_UNREADABLE: anchors file ${dir}: cannot read (EISDIR)`,
    ])
    const missing = join(dir, 'missing.jsonl')
    expect(await audit(['audit', 'verify', dataDir, '--no-signatures', '--anchors', missing])).toEqual({
      code: 1,
      stdout: [],
      stderr: [`egress audit: ANCHORS_UNREADABLE: anchors file ${missing}: cannot read (ENOENT)`],
    })
  })

  test('a line or an array that is not JSON: ANCHORS_INVALID naming the file and the line', async () => {
    const dir = tempDir('egress-cli-anchors-bad-')
    const lines = join(dir, 'anchors.jsonl')
    writeFileSync(lines, `${JSON.stringify({ lsn: 1, chainHead: '0'.repeat(64) })}\nnot json\n`)
    const result = await audit(['audit', 'verify', dataDir, '--no-signatures', '--anchors', lines])
    expect(result.code).toBe(1)
    expect(result.stderr).toHaveLength(1)
    expect(result.stderr[0]).toStartWith(`egress audit: ANCHORS_INVALID: ${lines} line 2: not valid JSON (`)
    const array = join(dir, 'anchors.json')
    writeFileSync(array, '[{"lsn": 1,')
    expect((await audit(['audit', 'verify', dataDir, '--no-signatures', '--anchors', array])).stderr[0]).toStartWith(`egress audit: ANCHORS_INVALID: ${array}: not valid JSON (`)
    const latin1 = join(dir, 'latin1.jsonl')
    writeFileSync(latin1, Buffer.from([0x7b, 0xe9, 0x7d, 0x0a]))
    expect((await audit(['audit', 'verify', dataDir, '--no-signatures', '--anchors', latin1])).stderr).toEqual([`egress audit: ANCHORS_INVALID: anchors file ${latin1}: not UTF-8 text`])
  })
})

describe('egress audit verify DIR with a segment that cannot be read', () => {
  test('a directory under a segment name: SEGMENT_UNREADABLE naming it, exit 1 (as the log\'s own open refuses it)', async () => {
    const dir = tempDir('egress-cli-audit-segment-dir-')
    cpSync(join(dataDir, 'log'), dir, { recursive: true })
    const segment = join(dir, '00000000000000000100.seg')
    mkdirSync(segment)
    const result = await audit(['audit', 'verify', dir, '--no-signatures'])
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: [] })
    expect(result.stderr).toHaveLength(1)
    expect(result.stderr[0]).toStartWith(`egress audit: SEGMENT_UNREADABLE: ${segment} cannot be read (`)
  })
})
