import { describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../src/cli/index.ts'
import { loadConfig, resolveHs256Secret } from '../../src/config/index.ts'
import { createVerifier, verifierOptionsFromConfig } from '../../src/http/auth/index.ts'
import { recordingIo } from './io.ts'

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'egress-cli-'))
}

/** Verifies a token exactly as the gateway would with the same environment. */
async function verifyAsGateway(token: string, env: Record<string, string>) {
  const config = loadConfig({ env })
  const verifier = createVerifier(verifierOptionsFromConfig(config.auth, resolveHs256Secret(config)))
  try {
    return await verifier.verify(token)
  } finally {
    verifier.close()
  }
}

describe('egress token', () => {
  test('mints a token the gateway verifies with the secret from the same data dir', async () => {
    const env = { EGRESS_DATA_DIR: dataDir() }
    const io = recordingIo(env)
    expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1', '--role', 'trader'], io)).toBe(0)
    const token = io.stdout.at(-1) ?? ''
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(await verifyAsGateway(token, env)).toEqual({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  })

  test('a token whose secret this command had to generate says so on stderr, with the absolute data dir; the next one does not', async () => {
    // Run from another working directory (dataDir defaults to the relative ./data) or with another EGRESS_DATA_DIR, it
    // generated a secret no gateway uses and printed the token as if all was well; the gateway answered 401.
    const dir = dataDir()
    const first = recordingIo({ EGRESS_DATA_DIR: dir })
    expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1'], first)).toBe(0)
    expect(first.stderr[0]).toBe(`warning: generated a new HS256 secret in ${join(dir, 'auth', 'hs256.secret')}: only a gateway on the data directory ${dir} will accept this token`)
    expect(first.stdout).toHaveLength(1)
    const second = recordingIo({ EGRESS_DATA_DIR: dir })
    expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1'], second)).toBe(0)
    expect(second.stderr.filter((line) => line.startsWith('warning:'))).toEqual([])
    const configured = recordingIo({ EGRESS_DATA_DIR: dataDir(), EGRESS_HS256_SECRET: 's'.repeat(32) })
    expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1'], configured)).toBe(0)
    expect(configured.stderr.filter((line) => line.startsWith('warning:'))).toEqual([])
  })

  test('a foreign non-empty data dir is refused (DATA_DIR_FOREIGN) before the secret is written there, as serve refuses it', async () => {
    // EGRESS_DATA_DIR=. in a checkout: token wrote auth/hs256.secret among the sources, and then the directory bore
    // a data dir's mark, so serve no longer refused it either.
    const dir = dataDir()
    writeFileSync(join(dir, 'package.json'), '{}')
    writeFileSync(join(dir, 'main.ts'), '')
    const io = recordingIo({ EGRESS_DATA_DIR: dir })
    expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1'], io)).toBe(1)
    expect(io.stderr.join('\n')).toContain('DATA_DIR_FOREIGN')
    expect(io.stdout).toEqual([])
    expect(readdirSync(dir).sort()).toEqual(['main.ts', 'package.json'])
    // A configured secret writes nothing there: minted as before.
    const configured = recordingIo({ EGRESS_DATA_DIR: dir, EGRESS_HS256_SECRET: 's'.repeat(32) })
    expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1'], configured)).toBe(0)
    expect(existsSync(join(dir, 'auth'))).toBe(false)
    // A config file kept in the data dir is not foreign there, as for serve.
    const withConfig = dataDir()
    writeFileSync(join(withConfig, 'egress.conf'), JSON.stringify({ dataDir: withConfig }))
    expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1', '--config', join(withConfig, 'egress.conf')], recordingIo({}))).toBe(0)
    expect(existsSync(join(withConfig, 'auth', 'hs256.secret'))).toBe(true)
  })

  test('a config whose gateway refuses HS256 (JWKS only, or shadow by default) is refused: exit 1 saying why and what instead, no token, nothing written', async () => {
    const dir = dataDir()
    const jwksFile = join(dir, 'jwks.json')
    writeFileSync(jwksFile, '{"keys":[]}')
    // A data dir with another program's files: the HS256 refusal comes first, as nothing would be written there.
    const data = dataDir()
    writeFileSync(join(data, 'package.json'), '{}')
    const configs: [Record<string, unknown>, string][] = [
      [{ dataDir: data, auth: { hs256Enabled: false, jwksFile, issuer: 'corp', audience: 'desk' } }, ''],
      [{ dataDir: data, auth: { hs256Enabled: false, jwksFile, hs256Secret: 's'.repeat(32) } }, ''],
      [{ dataDir: data, mode: 'shadow', auth: { jwksFile } }, ' (HS256 is on by default in paper mode only; mode is shadow)'],
    ]
    for (const [config, why] of configs) {
      const path = join(dir, 'egress.json')
      writeFileSync(path, JSON.stringify(config))
      const io = recordingIo({})
      expect(await runCli(['token', '--sub', 'alice', '--account', 'demo-1', '--config', path], io)).toBe(1)
      expect(io.stdout).toEqual([])
      const auth = config.auth as { issuer?: string; audience?: string }
      expect(io.stderr).toEqual([
        `egress token: config: auth.hs256Enabled: false${why}, so a gateway on this config refuses the HS256 tokens this command mints ` +
          `(401 algorithm_not_allowed); no token minted. Use a JWT from your identity provider signed by a key in ${jwksFile} ` +
          `(issuer ${auth.issuer ?? 'egress'}, audience ${auth.audience ?? 'egress-api'}), or set auth.hs256Enabled: true (paper or shadow mode)`,
      ])
      expect(readdirSync(data)).toEqual(['package.json'])
    }
  })

  test('repeated --role and --account add up; --ttl sets the expiry', async () => {
    const env = { EGRESS_DATA_DIR: dataDir() }
    const io = recordingIo(env)
    const argv = ['token', '--sub', 'ops-bot', '--role', 'bot', '--role', 'ops', '--account', 'a-1', '--account', 'a-2', '--ttl', '60']
    expect(await runCli(argv, io)).toBe(0)
    const token = io.stdout.at(-1) ?? ''
    expect(await verifyAsGateway(token, env)).toEqual({ sub: 'ops-bot', roles: ['bot', 'ops'], accounts: ['a-1', 'a-2'] })
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { iat: number; exp: number }
    expect(payload.exp - payload.iat).toBe(60)
    expect(io.stderr.some((line) => line.includes('warning: account a-1 is not in'))).toBe(true)
  })

  test('uses the config file given with --config', async () => {
    const dir = dataDir()
    const config = join(dir, 'egress.json')
    writeFileSync(config, JSON.stringify({ dataDir: join(dir, 'data'), auth: { issuer: 'desk-egress' } }))
    const io = recordingIo({})
    expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--config', config], io)).toBe(0)
    const payload = JSON.parse(Buffer.from((io.stdout.at(-1) ?? '').split('.')[1] ?? '', 'base64url').toString())
    expect(payload.iss).toBe('desk-egress')
  })

  test('bad usage exits 2 with one line naming the problem', async () => {
    const cases: [string[], string][] = [
      [['token', '--account', 'demo-1'], '--sub NAME is required'],
      [['token', '--sub', 'a'], 'a trader or bot token needs at least one --account'],
      [['token', '--sub', 'a', '--account', 'x', '--role', 'god'], '--role: expected one of trader, bot, ops, auditor, admin, got "god"'],
      [['token', '--sub', 'a', '--account', 'x', '--ttl', '0'], '--ttl: expected an integer between 1 and 86400 (auth.tokenTtlSecMax, the default), got "0"; a shorter-lived token bounds what a leaked one can do'],
      [['token', '--sub', 'a', '--account', 'demo-1', '--account', ''], '--account: expected an account id, got ""'],
    ]
    for (const [argv, message] of cases) {
      const io = recordingIo({ EGRESS_DATA_DIR: dataDir() })
      expect(await runCli(argv, io)).toBe(2)
      expect(io.stderr).toEqual([`egress token: ${message} (see "egress token --help")`])
      expect(io.stdout).toEqual([])
    }
  })

  test('a bad config exits 1 naming the field', async () => {
    const io = recordingIo({ EGRESS_DATA_DIR: dataDir(), PORT: 'abc' })
    expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1'], io)).toBe(1)
    expect(io.stderr).toEqual(['egress token: config: port: expected an integer between 1 and 65535, got "abc" (from env PORT)'])
  })

  test('a config file that gives a field twice exits 1 naming it, for token and serve alike, and nothing is minted', async () => {
    const dir = dataDir()
    const path = join(dir, 'egress.json')
    writeFileSync(path, `{\n  "auth": { "hs256Secret": "${'a'.repeat(32)}" },\n  "dataDir": ${JSON.stringify(dir)},\n  "auth": { "issuer": "other" }\n}\n`)
    for (const argv of [['token', '--sub', 'a', '--account', 'demo-1', '--config', path], ['serve', '--config', path]]) {
      const io = recordingIo({})
      expect(await runCli(argv, io)).toBe(1)
      expect(io.stdout).toEqual([])
      expect(io.stderr).toEqual([`egress ${argv[0]}: config: auth: given twice in config file ${path} (lines 2 and 4); JSON would keep only the last`])
    }
  })

  test('a data dir that is a file exits 1 naming dataDir, not the secret inside it', async () => {
    const file = join(dataDir(), 'not-a-dir')
    writeFileSync(file, '')
    const io = recordingIo({ EGRESS_DATA_DIR: file })
    expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1'], io)).toBe(1)
    expect(io.stderr).toEqual([`egress token: config: dataDir: expected a directory, got ${JSON.stringify(file)}: a file, not a directory (from env EGRESS_DATA_DIR)`])
  })

  /**
   * The claims are checked as the gateway checks them before anything is minted: a 257-character --sub or a
   * 65-character --account was minted (exit 0) into a token the gateway then refused, 401 claims_invalid, on every request.
   */
  test('claims the gateway would refuse: exit 2 saying which, and no token; at the bounds the gateway verifies it', async () => {
    const env = { EGRESS_DATA_DIR: dataDir() }
    for (const [argv, problem] of [
      [['--sub', 'a'.repeat(129), '--account', 'demo-1'], 'sub must be at most 128 characters'],
      [['--sub', 'egress', '--account', 'demo-1'], 'sub must not be egress or start with egress- (the names the gateway acts under in the log)'],
      [['--sub', 'Alice Smith', '--account', 'demo-1'], 'sub must be printable ASCII without spaces'],
      [['--sub', 'alice', '--account', 'a'.repeat(65)], 'accounts must be at most 64 characters each'],
    ] as const) {
      const io = recordingIo(env)
      expect(await runCli(['token', ...argv], io)).toBe(2)
      expect({ stdout: io.stdout, stderr: io.stderr }).toEqual({
        stdout: [],
        stderr: [`egress token: the gateway refuses a token with these claims: ${problem} (see "egress token --help")`],
      })
    }
    const io = recordingIo(env)
    expect(await runCli(['token', '--sub', 'a'.repeat(128), '--account', 'b'.repeat(64)], io)).toBe(0)
    expect(await verifyAsGateway(io.stdout.at(-1) ?? '', env)).toEqual({ sub: 'a'.repeat(128), roles: ['trader'], accounts: ['b'.repeat(64)] })
  })

  test('runs from a checkout as "bun src/main.ts token"; the last stdout line is the token alone', async () => {
    const env = { EGRESS_DATA_DIR: dataDir() }
    const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'token', '--sub', 'alice', '--account', 'demo-1', '--role', 'trader'], {
      cwd: join(import.meta.dir, '../..'),
      env: { PATH: process.env.PATH ?? '', ...env },
    })
    expect(child.exitCode).toBe(0)
    const lines = child.stdout.toString().trimEnd().split('\n')
    expect((await verifyAsGateway(lines.at(-1) ?? '', env)).sub).toBe('alice')
  })
})
