import { describe, expect, test } from 'bun:test'
import { runCli } from '../../src/cli/index.ts'
import { paperBanner } from '../../src/cli/paper-banner.ts'
import { defaultConfig } from '../../src/config/index.ts'
import { recordingIo } from './io.ts'

const banner = (lines: string[]): string => lines.join('\n')

describe('egress serve', () => {
  test('a bad config exits 1 with one line naming the field and what was expected', async () => {
    const io = recordingIo({ PORT: 'eighty' })
    expect(await runCli(['serve'], io)).toBe(1)
    expect(io.stderr).toHaveLength(1)
    expect(io.stderr[0]).toContain('port: expected an integer between 1 and 65535, got "eighty" (from env PORT)')
  })

  test('live mode is refused by this build, non-zero', async () => {
    const io = recordingIo({ EGRESS_MODE: 'live', EGRESS_JWKS_FILE: '/nonexistent' })
    expect(await runCli(['serve'], io)).not.toBe(0)
  })

  test('the paper banner says how to get a token and place an order', () => {
    const banner = paperBanner(defaultConfig(), 'http://127.0.0.1:8080')
    expect(banner).toContain('token --sub alice --account demo-1 --role trader')
    expect(banner).toContain("curl -s -w '\\n' -X POST http://127.0.0.1:8080/v1/orders")
    expect(banner).toContain('"account":"demo-1","symbol":"BTC-USD"')
  })

  test('the banner opens the stream before it places the order, in the background, and says how to cancel one', () => {
    // The stream starts at the log's end: printed after the POST ("Watch it:"), it showed none of the order's events.
    const lines = paperBanner(defaultConfig(), 'http://127.0.0.1:8080').split('\n')
    const at = (text: string) => lines.findIndex((line) => line.includes(text))
    expect(at('TOKEN=$(')).toBeGreaterThan(0)
    expect(at('/v1/accounts/demo-1/stream')).toBeGreaterThan(at('TOKEN=$('))
    expect(at('-X POST http://127.0.0.1:8080/v1/orders ')).toBeGreaterThan(at('/v1/accounts/demo-1/stream'))
    expect(lines[at('/v1/accounts/demo-1/stream')]).toEndWith('-H "Authorization: Bearer $TOKEN" &')
    expect(banner(lines)).toContain('Last-Event-ID: 0')
    expect(lines[at('/cancel')]).toBe(`  curl -s -w '\\n' -X POST http://127.0.0.1:8080/v1/orders/$ORDER_ID/cancel -H "Authorization: Bearer $TOKEN"`)
    expect(at('/cancel')).toBeGreaterThan(at('-X POST http://127.0.0.1:8080/v1/orders '))
  })

  test("the banner's token command, run as printed, mints a token the gateway accepts under a config file", async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { loadConfig, resolveHs256Secret } = await import('../../src/config/index.ts')
    const { createVerifier, verifierOptionsFromConfig } = await import('../../src/http/auth/index.ts')
    const dir = mkdtempSync(join(tmpdir(), 'egress-banner-'))
    const configPath = join(dir, 'egress.json')
    writeFileSync(configPath, JSON.stringify({ dataDir: join(dir, 'data'), auth: { issuer: 'corp', audience: 'desk' } }))
    const config = loadConfig({ configPath, env: {} })
    const banner = paperBanner(config, 'http://127.0.0.1:8080', { configPath, execPath: '/usr/local/bin/bun' })
    const command = /TOKEN=\$\((.*)\)$/m.exec(banner)?.[1] ?? ''
    const words = command.split(' ')
    const env = Object.fromEntries(words.filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split('=', 2) as [string, string]))
    const io = recordingIo(env)
    expect(await runCli(words.slice(words.indexOf('token')), io)).toBe(0)
    const verifier = createVerifier(verifierOptionsFromConfig(config.auth, resolveHs256Secret(config)))
    try {
      expect((await verifier.verify(io.stdout.at(-1) ?? '')).sub).toBe('alice')
    } finally {
      verifier.close()
    }
  })

  test('a paper config with HS256 off (a JWKS file only) gets no `egress token` hint: the banner says where tokens come from', () => {
    // The banner printed the `egress token` command, whose HS256 token this gateway answers 401 algorithm_not_allowed.
    const config = defaultConfig()
    const jwksOnly = { ...config, auth: { ...config.auth, hs256Enabled: false, jwksFile: '/etc/egress/jwks.json', issuer: 'corp', audience: 'desk' } }
    const banner = paperBanner(jwksOnly, 'http://127.0.0.1:8080', { execPath: '/usr/local/bin/bun' })
    expect(banner).not.toContain(' token ')
    expect(banner).not.toContain('TOKEN=$(')
    expect(banner).toContain('auth.hs256Enabled is false')
    expect(banner).toContain('a key in /etc/egress/jwks.json')
    expect(banner).toContain('issuer corp,')
    expect(banner).toContain('audience desk,')
    expect(banner).toContain('"accounts":["demo-1"]')
    // The order and the stream still read the token from $TOKEN.
    expect(banner).toContain('-H "Authorization: Bearer $TOKEN"')
  })

  test('the banner runs the CLI with npx when this Bun is the npm devDependency (not on PATH), else bun', () => {
    const line = (execPath: string) => paperBanner(defaultConfig(), 'http://127.0.0.1:8080', { execPath }).split('\n').find((text) => text.includes('TOKEN=')) ?? ''
    expect(line('/home/me/egress/node_modules/bun/bin/bun.exe')).toContain('TOKEN=$(npx bun src/main.ts token ')
    expect(line('/usr/local/bin/bun')).toContain('TOKEN=$(bun src/main.ts token ')
  })
})

describe('the serve gateway', () => {
  test('the config digest is recorded in the log and the config mode applies at start', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { parseConfig, configDigest } = await import('../../src/config/index.ts')
    const { startServeGateway } = await import('../../src/cli/serve-gateway.ts')
    const { StoppableClock } = await import('../../src/cli/stoppable-clock.ts')
    const dir = mkdtempSync(join(tmpdir(), 'egress-serve-'))
    const clock = new StoppableClock()
    try {
      const config = parseConfig({ dataDir: dir, mode: 'shadow', auth: { hs256Enabled: true }, wal: { durability: 'none' } })
      const { gateway, digest } = await startServeGateway(config, { clock, buildCommit: 'spec', onError: () => {} })
      expect(digest).toBe(configDigest(config))
      expect(gateway.engine.state.config?.digest).toBe(digest)
      expect(gateway.engine.state.mode).toBe('shadow')
      await gateway.stop()
    } finally {
      clock.cancelAll()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
