import { describe, expect, test } from 'bun:test'
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose'
import { runCli } from '../../src/cli/index.ts'
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../src/cli/keygen.ts'
import { nodeIo } from '../../wal/index.ts'
import { recordingIo } from './io.ts'

function outDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'egress-keygen-')), 'keys')
}

const readJwk = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as JWK

describe('egress keygen', () => {
  test('writes an Ed25519 JWK pair: private 0600 in a 0700 directory, kid printed on stdout', async () => {
    const dir = outDir()
    const io = recordingIo()
    expect(await runCli(['keygen', '--out', dir], io)).toBe(0)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, PUBLIC_KEY_FILE)).mode & 0o777).toBe(0o644)
    const privateJwk = readJwk(join(dir, PRIVATE_KEY_FILE))
    const publicJwk = readJwk(join(dir, PUBLIC_KEY_FILE))
    expect(privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
    expect(typeof privateJwk.d).toBe('string')
    expect(publicJwk.d).toBeUndefined()
    expect(io.stdout).toEqual([publicJwk.kid as string])
    expect(privateJwk.kid).toBe(publicJwk.kid)
  })

  test('a key directory it creates is fsynced in its parent, so the keys stay findable after a power cut', async () => {
    const dir = outDir()
    const synced: string[] = []
    const fsyncDirectory = nodeIo.fsyncDirectory
    nodeIo.fsyncDirectory = (path) => {
      synced.push(path)
      fsyncDirectory(path)
    }
    try {
      expect(await runCli(['keygen', '--out', dir], recordingIo())).toBe(0)
    } finally {
      nodeIo.fsyncDirectory = fsyncDirectory
    }
    // Before the fix: only keys/ itself was fsynced (for the key files), never its parent for keys/.
    expect(synced).toEqual([join(dir, '..')])
  })

  test('the private key signs what the public key verifies', async () => {
    const dir = outDir()
    await runCli(['keygen', '--out', dir], recordingIo())
    const privateKey = await importJWK(readJwk(join(dir, PRIVATE_KEY_FILE)))
    const publicKey = await importJWK(readJwk(join(dir, PUBLIC_KEY_FILE)))
    const jws = await new CompactSign(new TextEncoder().encode('chain head')).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey)
    expect(new TextDecoder().decode((await compactVerify(jws, publicKey)).payload)).toBe('chain head')
  })

  test('never replaces existing key files without --force; with it, the private key stays 0600', async () => {
    const dir = outDir()
    await runCli(['keygen', '--out', dir], recordingIo())
    const before = readFileSync(join(dir, PRIVATE_KEY_FILE), 'utf8')
    const io = recordingIo()
    expect(await runCli(['keygen', '--out', dir], io)).toBe(1)
    expect(io.stderr[0]).toContain('already exists; pass --force')
    expect(readFileSync(join(dir, PRIVATE_KEY_FILE), 'utf8')).toBe(before)

    chmodSync(join(dir, PRIVATE_KEY_FILE), 0o644)
    expect(await runCli(['keygen', '--out', dir, '--force'], recordingIo())).toBe(0)
    expect(readFileSync(join(dir, PRIVATE_KEY_FILE), 'utf8')).not.toBe(before)
    expect(statSync(join(dir, PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600)
  })

  test('--force puts the new key in place whole: the old file is replaced, never truncated and rewritten', async () => {
    const dir = outDir()
    await runCli(['keygen', '--out', dir], recordingIo())
    const path = join(dir, PRIVATE_KEY_FILE)
    const before = readFileSync(path, 'utf8')
    // A reader holding the old key file open (a sealer mid-read) still reads the old key in full: a rename leaves the old
    // file's content alone, where a write in place truncated it (a crash then left an empty or partial key).
    const held = openSync(path, 'r')
    try {
      expect(await runCli(['keygen', '--out', dir, '--force'], recordingIo())).toBe(0)
      const buffer = Buffer.alloc(before.length + 64)
      const read = readSync(held, buffer, 0, buffer.length, 0)
      expect(buffer.subarray(0, read).toString('utf8')).toBe(before)
    } finally {
      closeSync(held)
    }
    expect(readFileSync(path, 'utf8')).not.toBe(before)
    // No temporary file is left beside the keys.
    expect(readdirSync(dir).sort()).toEqual([PRIVATE_KEY_FILE, PUBLIC_KEY_FILE].sort())
  })

  test('--force onto a key path that is a directory is KEY_PATH_NOT_A_FILE, and neither key file is replaced', async () => {
    // It failed as node's bare "EISDIR: illegal operation on a directory, rename …", after the private key had been
    // replaced when it was the public file's path that was a directory (the pair then split).
    const dir = outDir()
    await runCli(['keygen', '--out', dir], recordingIo())
    const before = readFileSync(join(dir, PRIVATE_KEY_FILE), 'utf8')
    rmSync(join(dir, PUBLIC_KEY_FILE))
    mkdirSync(join(dir, PUBLIC_KEY_FILE))
    for (const argv of [['keygen', '--out', dir, '--force'], ['keygen', '--out', dir]]) {
      const io = recordingIo()
      expect(await runCli(argv, io)).toBe(1)
      expect(io.stderr).toEqual([`egress keygen: KEY_PATH_NOT_A_FILE: ${join(dir, PUBLIC_KEY_FILE)} is a directory, not a key file; move it away or give another directory (no key was written)`])
      expect(readFileSync(join(dir, PRIVATE_KEY_FILE), 'utf8')).toBe(before)
      expect(statSync(join(dir, PUBLIC_KEY_FILE)).isDirectory()).toBe(true)
      expect(readdirSync(dir).sort()).toEqual([PRIVATE_KEY_FILE, PUBLIC_KEY_FILE].sort())
    }
  })

  test('--out is required', async () => {
    const io = recordingIo()
    expect(await runCli(['keygen'], io)).toBe(2)
    expect(io.stderr).toEqual(['egress keygen: --out DIR is required (see "egress keygen --help")'])
  })

  test('--out naming a file is a usage error naming it; the file is left as it was', async () => {
    // It failed as node's "EEXIST: file already exists, mkdir …", exit 1, naming no option.
    const file = join(mkdtempSync(join(tmpdir(), 'egress-keygen-file-')), 'keys')
    writeFileSync(file, 'not a directory')
    const io = recordingIo()
    expect(await runCli(['keygen', '--out', file], io)).toBe(2)
    expect(io.stderr).toEqual([`egress keygen: --out: expected a directory, got ${JSON.stringify(file)}: a file (see "egress keygen --help")`])
    expect(readFileSync(file, 'utf8')).toBe('not a directory')
  })
})
