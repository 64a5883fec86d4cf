import { describe, expect, test } from 'bun:test'
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultConfig, loadConfig, parseConfig } from '../../src/config/index.ts'
import { verifierOptionsFromConfig } from '../../src/http/auth/index.ts'
import { messageOf } from './support.ts'

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'egress-config-')), 'egress.json')
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

describe('defaults', () => {
  test('the empty config is valid: paper, sim, ./data, 127.0.0.1:8080, fsync, HS256 on, demo-1 funded', () => {
    const config = defaultConfig()
    expect(config).toMatchObject({ mode: 'paper', venue: 'sim', dataDir: './data', host: '127.0.0.1', port: 8080 })
    expect(config.wal.durability).toBe('fsync')
    expect(config.auth).toMatchObject({ issuer: 'egress', audience: 'egress-api', hs256Enabled: true })
    expect(config.sse.heartbeatMs).toBeLessThan(10_000)
    expect(config.accounts).toEqual([{ id: 'demo-1', venue: 'sim', balances: { USD: '1000000', BTC: '10', ETH: '100' } }])
  })

  test('loading with no file and an empty environment gives the defaults', () => {
    expect(loadConfig({ env: {} })).toEqual(defaultConfig())
  })

  test('defaults are fresh objects: mutating one config does not change the next', () => {
    const first = defaultConfig()
    first.accounts[0]!.balances['USD'] = '0'
    expect(defaultConfig().accounts[0]!.balances['USD']).toBe('1000000')
  })
})

describe('precedence: defaults, then file, then env', () => {
  test('a file overrides defaults and keeps defaults for fields it omits', () => {
    const config = loadConfig({ configPath: configFile({ port: 9000, wal: { durability: 'none' } }), env: {} })
    expect(config.port).toBe(9000)
    expect(config.wal).toEqual({ durability: 'none', segmentBytesMax: 64 * 1024 * 1024 })
  })

  test('env overrides the file', () => {
    const path = configFile({ port: 9000, dataDir: '/from/file', mode: 'shadow', auth: { hs256Enabled: true } })
    const config = loadConfig({ configPath: path, env: { PORT: '9100', EGRESS_DATA_DIR: '/from/env', EGRESS_HOST: '0.0.0.0' } })
    expect([config.port, config.dataDir, config.host, config.mode]).toEqual([9100, '/from/env', '0.0.0.0', 'shadow'])
  })

  test('a bad file value an env variable overrides is still refused, naming the file and the variable (a secret not shown)', () => {
    const path = configFile({ port: '80a', auth: { hs256Secret: 'hunter2' }, host: '127.0.0.1' })
    const message = messageOf(() => loadConfig({ configPath: path, env: { PORT: '9100', EGRESS_HS256_SECRET: 's'.repeat(32) } }))
    expect(message).toContain(`port: expected an integer between 1 and 65535, got "80a" in ${path} (PORT overrides it, but the file's value must be valid too`)
    expect(message).toContain(`auth.hs256Secret: expected at least 32 characters, got (secret, not shown) in ${path} (EGRESS_HS256_SECRET overrides it`)
    expect(message).not.toContain('hunter2')
    // A good file value overridden, and a bad one no variable touches, are judged as before.
    expect(loadConfig({ configPath: configFile({ port: 9000 }), env: { PORT: '9100' } }).port).toBe(9100)
  })

  test('EGRESS_MODE and nested env overrides land in their fields', () => {
    const config = loadConfig({ env: { EGRESS_MODE: 'shadow', EGRESS_WAL_DURABILITY: 'none', EGRESS_JWKS_FILE: '/keys.json' } })
    expect([config.mode, config.wal.durability, config.auth.jwksFile]).toEqual(['shadow', 'none', '/keys.json'])
  })

  test('EGRESS_CONFIG names the file when no path is given; an empty variable counts as unset', () => {
    const path = configFile({ port: 7000 })
    expect(loadConfig({ env: { EGRESS_CONFIG: path, PORT: '' } }).port).toBe(7000)
  })
})

describe('bad config names the field and what was expected', () => {
  test('an empty EGRESS_DATA_DIR is refused, not taken as unset: it started the gateway on a fresh log in ./data', () => {
    for (const value of ['', '  ']) {
      expect(messageOf(() => loadConfig({ env: { EGRESS_DATA_DIR: value } }))).toBe(
        'dataDir: environment variable EGRESS_DATA_DIR is set but empty; give a directory, or unset it for the default (./data)',
      )
    }
    expect(loadConfig({ env: {} }).dataDir).toBe(loadConfig({ env: { PORT: '' } }).dataDir)
  })

  test('an empty EGRESS_CONFIG is refused, not taken as unset: the gateway started on the embedded defaults (review)', () => {
    for (const value of ['', ' ']) {
      expect(messageOf(() => loadConfig({ env: { EGRESS_CONFIG: value } }))).toBe(
        '(config file): environment variable EGRESS_CONFIG is set but empty; give a config file, or unset it for the embedded defaults',
      )
    }
  })

  test('an empty --config is refused naming the option: it failed as "config file : cannot read (ENOENT)"', () => {
    for (const configPath of ['', ' ']) {
      expect(messageOf(() => loadConfig({ configPath, env: {} }))).toBe('(config file): --config is empty; give a config file, or leave the option out for the embedded defaults')
    }
  })

  test('an environment variable that nearly names a setting is refused with the one it likely means, not ignored', () => {
    // EGRESS_DATADIR or EGRESS_PORT (the port's variable is PORT) was ignored without a word: the gateway started on
    // ./data, or on 8080.
    expect(messageOf(() => loadConfig({ env: { EGRESS_DATADIR: '/srv/egress' } }))).toBe(
      'environment variable EGRESS_DATADIR is not one egress reads; did you mean EGRESS_DATA_DIR?',
    )
    expect(messageOf(() => loadConfig({ env: { EGRESS_PORT: '9000', EGRESS_MODES: 'shadow' } }))).toBe(
      'environment variable EGRESS_PORT is not one egress reads; did you mean PORT?; environment variable EGRESS_MODES is not one egress reads; did you mean EGRESS_MODE?',
    )
    // Other EGRESS_ variables (a client script's, say) are none of egress's business.
    expect(loadConfig({ env: { EGRESS_URL: 'http://x', EGRESS_TOKEN: 't', EGRESS_REPLICATION_TOKEN: 'r'.repeat(16) } })).toEqual(defaultConfig())
  })

  test('a non-numeric PORT', () => {
    expect(messageOf(() => loadConfig({ env: { PORT: 'abc' } }))).toBe(
      'port: expected an integer between 1 and 65535, got "abc" (from env PORT)',
    )
  })

  test('each bad field is reported with its path', () => {
    const cases: [unknown, string][] = [
      [{ port: 70000 }, 'port: expected an integer between 1 and 65535, got 70000'],
      [{ port: 80.5 }, 'port: expected an integer between 1 and 65535, got 80.5'],
      [{ mode: 'yolo' }, 'mode: expected "paper", "shadow" or "live", got "yolo"'],
      [{ host: 'a b' }, 'host: expected a host name or IP address, got "a b"'],
      [{ dataDir: '' }, 'dataDir: expected a non-empty path, got ""'],
      [{ wal: { durability: 'sometimes' } }, 'wal.durability: expected "fsync" or "none", got "sometimes"'],
      [{ wal: { segmentBytesMax: 10 } }, 'wal.segmentBytesMax: expected an integer between 1048576 and 1073741824, got 10'],
      [{ auth: { clockToleranceSec: -1 } }, 'auth.clockToleranceSec: expected an integer between 0 and 300, got -1'],
      [{ auth: { jwksReloadMs: 10 } }, 'auth.jwksReloadMs: expected an integer between 1000 and 3600000, got 10'],
      [{ auth: { hs256Enabled: 'yes' } }, 'auth.hs256Enabled: expected true or false, got "yes"'],
      [{ backpressure: { account: { ratePerSec: 0, burst: 1 } } }, 'backpressure.account.ratePerSec: expected an integer between 1 and 1000000, got 0'],
      [{ backpressure: { inFlightMax: 0 } }, 'backpressure.inFlightMax: expected an integer between 1 and 1000000, got 0'],
      [{ sse: { heartbeatMs: 10_000 } }, 'sse.heartbeatMs: expected an integer between 100 and 9999, got 10000'],
      [{ sse: { subscriberBufferEventsMax: 0 } }, 'sse.subscriberBufferEventsMax: expected an integer between 1 and 1000000, got 0'],
      [{ accounts: [{ id: 'a', balances: { USD: '1e6' } }] }, 'accounts.0.balances.USD: expected a non-negative decimal string with at most 8 places and no leading zero, like "1000000" or "2.5", got "1e6"'],
      [{ accounts: [{ id: 'a', balances: { USD: 100 } }] }, 'accounts.0.balances.USD: expected a non-negative decimal string with at most 8 places and no leading zero, like "1000000" or "2.5", got 100'],
      [{ accounts: [{ id: 'a', balances: { USD: '00100' } }] }, 'accounts.0.balances.USD: expected a non-negative decimal string with at most 8 places and no leading zero, like "1000000" or "2.5", got "00100"'],
      [{ accounts: [{ balances: {} }] }, 'accounts.0.id: required field is missing'],
      [{ accounts: [{ id: 'has space' }] }, 'accounts.0.id: expected an id of 1-64 characters [A-Za-z0-9._-], starting with a letter or digit, got "has space"'],
      [{ backpressure: { bot: { ratePerSec: 5 } } }, 'backpressure.bot.burst: required field is missing'],
      [{ accounts: [{ id: 'a' }, { id: 'a' }] }, 'accounts.1.id: duplicate account id "a"'],
      [{ prot: 8080 }, 'prot: unknown field'],
      [{ wal: { fsync: true } }, 'wal.fsync: unknown field'],
    ]
    for (const [input, message] of cases) expect(messageOf(() => parseConfig(input))).toBe(message)
  })

  test('several bad fields are all reported, on one line', () => {
    const message = messageOf(() => parseConfig({ port: 0, mode: 'x' }))
    expect(message).toContain('port: ')
    expect(message).toContain('mode: ')
    expect(message).not.toContain('\n')
  })

  test('a short secret is rejected without echoing it', () => {
    const message = messageOf(() => loadConfig({ env: { EGRESS_HS256_SECRET: 'hunter2' } }))
    expect(message).toBe('auth.hs256Secret: expected at least 32 characters, got (secret, not shown) (from env EGRESS_HS256_SECRET)')
  })

  test('live mode refuses HS256 and needs a JWKS file', () => {
    expect(messageOf(() => parseConfig({ mode: 'live' }))).toBe(
      'auth: no way to verify tokens: set auth.jwksFile or enable auth.hs256Enabled',
    )
    expect(messageOf(() => parseConfig({ mode: 'live', auth: { hs256Enabled: true, jwksFile: '/k.json' } }))).toContain(
      'auth.hs256Enabled: HS256 tokens are for local paper/shadow use and are refused in live mode',
    )
    const live = parseConfig({ mode: 'live', auth: { jwksFile: '/k.json' } })
    expect(live.auth.hs256Enabled).toBe(false)
  })

  test('shadow mode takes HS256 only when the config says so: it talks to real venues; paper has it by default', () => {
    expect(parseConfig({ mode: 'paper' }).auth.hs256Enabled).toBe(true)
    expect(messageOf(() => parseConfig({ mode: 'shadow' }))).toBe(
      'auth: no way to verify tokens: set auth.jwksFile or enable auth.hs256Enabled (HS256 is on by default in paper mode only; in shadow mode it takes auth.hs256Enabled: true)',
    )
    expect(parseConfig({ mode: 'shadow', auth: { jwksFile: '/k.json' } }).auth.hs256Enabled).toBe(false)
    expect(parseConfig({ mode: 'shadow', auth: { hs256Enabled: true } }).auth.hs256Enabled).toBe(true)
  })

  test('a default venue other than "sim" is refused: orders without a venue went to the sim venue whatever it said', () => {
    expect(parseConfig({ venue: 'sim' }).venue).toBe('sim')
    expect(messageOf(() => parseConfig({ venue: 'broker-a' }))).toBe(
      'venue: expected "sim": an order without a "venue" goes to the sim venue whatever this field says; name the venue in each order instead, got "broker-a"',
    )
  })

  test('auth.jwksStaleMaxMs: unset by default (5 reload intervals in the verifier), at least 2 × jwksReloadMs when set', () => {
    expect(defaultConfig().auth.jwksStaleMaxMs).toBeUndefined()
    expect(verifierOptionsFromConfig(parseConfig({ auth: { jwksReloadMs: 10_000 } }).auth, 'x'.repeat(32)).jwksStaleMaxMs).toBeUndefined()
    expect(parseConfig({ auth: { jwksReloadMs: 10_000, jwksStaleMaxMs: 20_000 } }).auth.jwksStaleMaxMs).toBe(20_000)
    expect(messageOf(() => parseConfig({ auth: { jwksReloadMs: 10_000, jwksStaleMaxMs: 19_999 } }))).toBe(
      'auth.jwksStaleMaxMs: expected at least 2 × auth.jwksReloadMs (20000) so an untouched file never goes stale between reloads, got 19999',
    )
    expect(messageOf(() => parseConfig({ auth: { jwksStaleMaxMs: 1_000 } }))).toBe('auth.jwksStaleMaxMs: expected an integer between 2000 and 86400000, got 1000')
    expect(messageOf(() => parseConfig({ auth: { jwksStaleMaxMs: 'long' } }))).toBe('auth.jwksStaleMaxMs: expected an integer between 2000 and 86400000, got "long"')
  })

  test('a data dir that is a file, or lies under one, names dataDir (a missing one is fine: created on first use)', () => {
    const file = configFile('{}')
    expect(messageOf(() => loadConfig({ env: { EGRESS_DATA_DIR: file } }))).toBe(
      `dataDir: expected a directory, got ${JSON.stringify(file)}: a file, not a directory (from env EGRESS_DATA_DIR)`,
    )
    expect(messageOf(() => loadConfig({ configPath: configFile({ dataDir: `${file}/data` }), env: {} }))).toBe(
      `dataDir: expected a directory, got ${JSON.stringify(`${file}/data`)}: a path under a file`,
    )
    expect(loadConfig({ env: { EGRESS_DATA_DIR: join(file, '..', 'not-yet') } }).dataDir).toEndWith('not-yet')
  })

  /**
   * Written into only when needed — a tamper finding's forensics bundle, a compaction's archive — a file at their path
   * failed then (the tamper evidence lost, segments left in the log), though the config had said so from the start.
   */
  test('a forensics or archive dir that is a file names its field at load, as dataDir does', () => {
    const file = configFile('{}')
    expect(messageOf(() => loadConfig({ configPath: configFile({ audit: { forensicsDir: file } }), env: {} }))).toBe(
      `audit.forensicsDir: expected a directory, got ${JSON.stringify(file)}: a file, not a directory`,
    )
    expect(messageOf(() => loadConfig({ configPath: configFile({ snapshots: { compaction: 'archive', archiveDir: `${file}/archive` } }), env: {} }))).toBe(
      `snapshots.archiveDir: expected a directory, got ${JSON.stringify(`${file}/archive`)}: a path under a file`,
    )
    const missing = join(file, '..', 'not-yet')
    expect(loadConfig({ configPath: configFile({ audit: { forensicsDir: missing }, snapshots: { compaction: 'archive', archiveDir: missing } }), env: {} }).audit.forensicsDir).toBe(missing)
  })

  test('an anchors file that is a directory names audit.anchorsFile at load (every anchor write failed in silence)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-config-anchors-'))
    expect(messageOf(() => loadConfig({ configPath: configFile({ audit: { anchorsFile: dir } }), env: {} }))).toBe(
      `audit.anchorsFile: expected a regular file (or none yet), got ${JSON.stringify(dir)}: a directory, not a file`,
    )
    const file = join(dir, 'anchors.jsonl')
    expect(loadConfig({ configPath: configFile({ audit: { anchorsFile: file } }), env: {} }).audit.anchorsFile).toBe(file)
    writeFileSync(file, '')
    expect(loadConfig({ configPath: configFile({ audit: { anchorsFile: file } }), env: {} }).audit.anchorsFile).toBe(file)
  })

  test('a data dir that is a symbolic link to nowhere names dataDir and the link, not "ENOENT, mkdir <dir>/auth"', () => {
    const parent = mkdtempSync(join(tmpdir(), 'egress-config-link-'))
    const link = join(parent, 'data')
    symlinkSync(join(parent, 'unmounted-volume'), link)
    expect(messageOf(() => loadConfig({ env: { EGRESS_DATA_DIR: link } }))).toBe(
      `dataDir: expected a directory, got ${JSON.stringify(link)}: a symbolic link to ${JSON.stringify(join(parent, 'unmounted-volume'))}, which does not exist (from env EGRESS_DATA_DIR)`,
    )
  })

  test('a data dir under a symbolic link to nowhere names dataDir and the link, not "ENOENT, mkdir <dir>/auth"', () => {
    const parent = mkdtempSync(join(tmpdir(), 'egress-config-link-'))
    const link = join(parent, 'volume')
    symlinkSync(join(parent, 'unmounted-volume'), link)
    const dataDir = join(link, 'egress', 'data')
    expect(messageOf(() => loadConfig({ env: { EGRESS_DATA_DIR: dataDir } }))).toBe(
      `dataDir: expected a directory, got ${JSON.stringify(dataDir)}: under ${JSON.stringify(link)}, a symbolic link to ${JSON.stringify(join(parent, 'unmounted-volume'))}, which does not exist (from env EGRESS_DATA_DIR)`,
    )
    // Under a link to a directory that exists, a missing data dir is fine (made on first use).
    symlinkSync(parent, join(parent, 'here'))
    expect(loadConfig({ env: { EGRESS_DATA_DIR: join(parent, 'here', 'data'), EGRESS_HS256_SECRET: 'x'.repeat(32) } }).dataDir).toBe(join(parent, 'here', 'data'))
  })

  test("an env override inside a section the file got wrong does not hide the file's error", () => {
    const path = configFile({ auth: 'oops', wal: null })
    const env = { EGRESS_HS256_SECRET: 'x'.repeat(32), EGRESS_WAL_DURABILITY: 'none' }
    expect(messageOf(() => loadConfig({ configPath: path, env }))).toBe('wal: expected an object, got null; auth: expected an object, got "oops"')
  })

  test('a section that is not an object says so, not "required field is missing"', () => {
    expect(messageOf(() => parseConfig({ auth: 'oops' }))).toBe('auth: expected an object, got "oops"')
    expect(messageOf(() => parseConfig({ accounts: [5] }))).toBe('accounts.0: expected an object, got 5')
    expect(messageOf(() => parseConfig({ backpressure: { account: null } }))).toBe('backpressure.account: expected an object, got null')
  })

  test("a file that is not JSON is reported without its text: an unquoted secret is not echoed, its position is", () => {
    const secret = 'SuperSecretValue0123456789abcdefXYZ'
    const path = configFile(`{\n  "auth": {\n    "hs256Secret": ${secret}\n  }\n}`)
    const message = messageOf(() => loadConfig({ configPath: path, env: {} }))
    expect(message).not.toContain(secret)
    expect(message).toBe(`config file ${path}: not valid JSON at line 3, column 20: expected a value: a "string", a number, true, false, null, an object or a list`)
  })

  test('a missing or unparsable file is a ConfigError naming the file', () => {
    expect(messageOf(() => loadConfig({ configPath: '/nonexistent/egress.json', env: {} }))).toBe(
      'config file /nonexistent/egress.json: cannot read (ENOENT)',
    )
    const broken = configFile('{"port": ')
    expect(messageOf(() => loadConfig({ configPath: broken, env: {} }))).toStartWith(`config file ${broken}: not valid JSON`)
    expect(messageOf(() => loadConfig({ configPath: configFile([1]), env: {} }))).toContain('expected a JSON object')
  })
})
