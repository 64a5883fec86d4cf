import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from '../../src/cli/index.ts'
import { readSealUnverified } from '../../src/audit/index.ts'
import { editPayloadByte, removeTempDirs, sealedLog, tempDir, testKeys, type TestKeys } from '../audit/support.ts'
import { recordingIo } from './io.ts'

let keys: TestKeys
let dataDir: string
let publicKeyPath: string

beforeAll(async () => {
  keys = await testKeys()
  dataDir = tempDir('egress-cli-audit-')
  await sealedLog(join(dataDir, 'log'), keys, { records: 120, sealEvery: 40 })
  publicKeyPath = join(tempDir('egress-cli-audit-key-'), 'seal.public.jwk.json')
  writeFileSync(publicKeyPath, JSON.stringify(keys.publicJwk))
})
afterAll(removeTempDirs)

function tamperedCopy(lsn: number) {
  const dir = tempDir('egress-cli-audit-tampered-')
  cpSync(join(dataDir, 'log'), dir, { recursive: true })
  return { dir, edited: editPayloadByte(dir, lsn) }
}

describe('egress audit verify', () => {
  test('a key given as a pipe (--public-key <(…)) is read: the command reads it once', async () => {
    const fifo = join(tempDir('egress-cli-audit-fifo-'), 'key.pipe')
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0)
    // The writer, as a shell's process substitution would be: another process, writing once a reader opens the pipe.
    const writer = Bun.spawn(['sh', '-c', 'cat "$0" > "$1"', publicKeyPath, fifo])
    const io = recordingIo()
    const code = await runCli(['audit', 'verify', dataDir, '--public-key', fifo], io)
    writer.kill()
    expect({ code, stderr: io.stderr }).toEqual({ code: 0, stderr: expect.any(Array) })
    expect(io.stdout.join('\n')).toContain('seals     4 checked, signatures verified')
  })

  test('a key file missing or not a key: exit 1, the line led by its stable code', async () => {
    const missing = join(tempDir('egress-cli-audit-key-'), 'nope.jwk.json')
    const io = recordingIo()
    expect(await runCli(['audit', 'verify', dataDir, '--public-key', missing], io)).toBe(1)
    expect(io.stderr).toEqual([`egress audit: KEY_FILE_UNREADABLE: ${missing}: cannot read (ENOENT)`])
    const notKey = join(tempDir('egress-cli-audit-key-'), 'not-a-key.json')
    writeFileSync(notKey, '{"kty":"RSA"}')
    const refused = recordingIo()
    expect(await runCli(['audit', 'verify', dataDir, '--public-key', notKey], refused)).toBe(1)
    expect(refused.stderr[0]).toStartWith(`egress audit: KEY_FILE_INVALID: ${notKey}: expected an Ed25519 JWK`)
  })

  test('a clean data directory (log in log/) exits 0 with a summary', async () => {
    const io = recordingIo()
    expect(await runCli(['audit', 'verify', dataDir, '--public-key', publicKeyPath], io)).toBe(0)
    const out = io.stdout.join('\n')
    expect(out).toStartWith(`CLEAN: ${join(dataDir, 'log')}`)
    expect(out).toContain('seals     4 checked, signatures verified')
  })

  test('a tampered copy exits 65 and names the file, offset and LSN', async () => {
    const { dir, edited } = tamperedCopy(77)
    const io = recordingIo()
    expect(await runCli(['audit', 'verify', dir, '--public-key', publicKeyPath], io)).toBe(65)
    const out = io.stdout.join('\n')
    expect(out).toStartWith('PROBLEMS FOUND')
    expect(out).toContain(`CHAIN_BREAK at ${edited.file} offset ${edited.offset} (LSN 77)`)
  })

  test('--json prints the whole report', async () => {
    const { dir, edited } = tamperedCopy(5)
    const io = recordingIo()
    expect(await runCli(['audit', 'verify', dir, '--no-signatures', '--json'], io)).toBe(65)
    const report = JSON.parse(io.stdout.join('\n')) as { ok: boolean; firstProblem: unknown; seals: { signaturesChecked: boolean } }
    expect(report.ok).toBe(false)
    expect(report.seals.signaturesChecked).toBe(false)
    expect(report.firstProblem).toMatchObject({ code: 'CHAIN_BREAK', lsn: 5, file: edited.file, offsetBytes: edited.offset })
  })

  test('"audit anchor" of a tampered copy exits 65 (a data error, as verify) naming the problem, and prints no anchor', async () => {
    const { dir, edited } = tamperedCopy(50)
    const io = recordingIo()
    expect(await runCli(['audit', 'anchor', dir, '--public-key', publicKeyPath], io)).toBe(65)
    expect(io.stdout).toEqual([])
    expect(io.stderr.join('\n')).toContain(`CHAIN_BREAK at ${edited.file} offset ${edited.offset} (LSN 50)`)
  })

  test('anchors: "audit anchor" prints a line that "audit verify --anchors" then checks', async () => {
    const io = recordingIo()
    expect(await runCli(['audit', 'anchor', dataDir, '--public-key', publicKeyPath], io)).toBe(0)
    const anchor = JSON.parse(io.stdout[0] as string) as { lsn: number; chainHead: string; seal: string; sealedAtMs: number }
    expect(anchor.chainHead).toMatch(/^[0-9a-f]{64}$/)
    // When the seal it is was signed, as the gateway's POST /v1/audit/anchor says it (the seal's own claim).
    expect(Object.keys(anchor).sort()).toEqual(['chainHead', 'lsn', 'seal', 'sealRecordLsn', 'sealedAtMs'])
    const read = readSealUnverified(anchor.seal)
    if (!read.ok) throw new Error(read.reason)
    expect(anchor.sealedAtMs).toBe(read.value.claims.sealedAtMs)
    const anchorsPath = join(tempDir('egress-cli-anchors-'), 'anchors.jsonl')
    writeFileSync(anchorsPath, `${JSON.stringify(anchor)}\n`)
    const clean = recordingIo()
    expect(await runCli(['audit', 'verify', dataDir, '--public-key', publicKeyPath, '--anchors', anchorsPath], clean)).toBe(0)
    expect(clean.stdout.join('\n')).toContain('anchors   1 checked')
    writeFileSync(anchorsPath, `${JSON.stringify({ lsn: anchor.lsn, chainHead: '0'.repeat(64) })}\n`)
    const wrong = recordingIo()
    expect(await runCli(['audit', 'verify', dataDir, '--public-key', publicKeyPath, '--anchors', anchorsPath], wrong)).toBe(65)
    expect(wrong.stdout.join('\n')).toContain(`ANCHOR_MISMATCH`)
  })

  test('an anchors file that holds none still shows in the summary: "anchors 0 checked", not a CLEAN silent on anchors', async () => {
    const anchorsPath = join(tempDir('egress-cli-anchors-empty-'), 'anchors.jsonl')
    writeFileSync(anchorsPath, '')
    const io = recordingIo()
    expect(await runCli(['audit', 'verify', dataDir, '--public-key', publicKeyPath, '--anchors', anchorsPath], io)).toBe(0)
    expect(io.stdout.join('\n')).toContain(`\n  anchors   0 checked, 0 before the log's start`)
  })

  test('usage: a key choice is required, exactly one', async () => {
    for (const argv of [['audit', 'verify', dataDir], ['audit', 'verify', dataDir, '--no-signatures', '--public-key', publicKeyPath], ['audit', 'check', dataDir], ['audit', 'verify']]) {
      const io = recordingIo()
      expect(await runCli(argv, io)).toBe(2)
      expect(io.stderr).toHaveLength(1)
    }
  })

  /**
   * A DIR with no log is "not a data directory", exit 1, as replay-verify, snapshot and compact say it. It was verified
   * as an empty log: PROBLEMS FOUND, LOG_MISSING, exit 65 — a data error, as if a log had been damaged, for a DIR that
   * was mistyped, empty or never held one (an absent DIR was exit 1 already, in other words).
   */
  test('an empty, absent or log-less DIR: exit 1, "not a data directory (nothing verified)", as the other offline commands', async () => {
    const empty = tempDir('egress-cli-audit-empty-')
    const emptyLog = tempDir('egress-cli-audit-empty-log-')
    mkdirSync(join(emptyLog, 'log'))
    const file = join(emptyLog, 'a-file')
    writeFileSync(file, 'not a data directory')
    const cases: Array<[string, string]> = [
      [empty, `egress audit: NOT_A_DATA_DIR: no log in ${join(empty, 'log')}: not a data directory (nothing verified)`],
      [join(empty, 'absent'), `egress audit: NOT_A_DATA_DIR: ${join(empty, 'absent')} does not exist: not a data directory (nothing verified)`],
      [emptyLog, `egress audit: NOT_A_DATA_DIR: no log segment (NNNN….seg) in ${join(emptyLog, 'log')}: not a data directory (nothing verified)`],
      // A file as DIR said node's "ENOTDIR: not a directory, scandir …" (the other commands: "no log in FILE/log").
      [file, `egress audit: NOT_A_DATA_DIR: ${file} is a file: not a data directory (nothing verified)`],
    ]
    for (const [dir, message] of cases) {
      for (const argv of [['audit', 'verify', dir, '--no-signatures'], ['audit', 'anchor', dir, '--public-key', publicKeyPath]]) {
        const io = recordingIo()
        expect({ code: await runCli(argv, io), stdout: io.stdout, stderr: io.stderr }).toEqual({ code: 1, stdout: [], stderr: [message] })
      }
    }
    // The replay-verify of the same DIR says the same.
    const io = recordingIo()
    expect(await runCli(['replay-verify', empty], io)).toBe(1)
    expect(io.stderr).toEqual([`egress replay-verify: NOT_A_DATA_DIR: no log in ${join(empty, 'log')}: not a data directory (nothing created)`])
    const fileIo = recordingIo()
    expect(await runCli(['replay-verify', file], fileIo)).toBe(1)
    expect(fileIo.stderr).toEqual([`egress replay-verify: NOT_A_DATA_DIR: ${file} is a file: not a data directory (nothing created)`])
  })
})
