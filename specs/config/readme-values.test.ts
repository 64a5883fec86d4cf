/**
 * What the README's configuration tables say of each field — its range and its default — is what the config does
 * (readme-reference.test.ts checks that every field is listed; this checks what its row says). The tables are the
 * "Configuration" one (range in the unit column; the `autoStop.<breaker>.*` rows list each field with its range there
 * and the defaults in order) and the "Kernel parameters" one (range in its own column).
 *
 * - A range `a–b` is probed at its ends: `a` and `b` load, `a − 1` and `b + 1` are refused; `0 or a–b`: 0 loads too.
 *   A field bounded by another (`≥ 2 × jwksReloadMs`, `≤ samplesMax`) is probed with the other set to let its ends
 *   through (CONTEXT), so a stated end that no setting of the other can reach fails here.
 * - A default that is a number (`64 MiB`, `86400 (24 h)`), a boolean or one value in backticks is compared with what
 *   the gateway runs with when the field is unset: the parsed `{}`, else the fallback the runtime applies (RUNTIME).
 */

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { ANCHOR_EVERY_MS_DEFAULT, ANCHORS_FILE_BYTES_MAX_DEFAULT } from '../../src/audit/anchor-writer.ts'
import {
  AUTO_STOP, backOfficeConfigOf, collectorConfigOf, ConfigError, defaultConfig, parseConfig, readBudgetOf, snapshotsConfigOf, storageConfigOf, venueHealthConfigOf,
} from '../../src/config/index.ts'
import { defaultKernelParams } from '../../src/domain/kernel-config.ts'
import { TOKEN_TTL_SEC_MAX_DEFAULT } from '../../src/http/auth/mint.ts'
import { QUARANTINE_BYTES_WARN, QUARANTINE_FILES_WARN } from '../../src/runtime/quarantine-status.ts'
import { EXECUTOR_LANE3_EVERY } from '../../src/runtime/lane3-share.ts'
import { paperPolicy } from '../../src/runtime/paper.ts'

const README = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8')

interface Row { keys: string[]; range: string; default: string }

/** The rows of the table under `## title`: its first cell's keys (with `prefix`), its range and default cells. */
function rows(title: string, rangeColumn: number, prefix: string): Row[] {
  const start = README.indexOf(`\n## ${title}`)
  expect(start).toBeGreaterThan(0)
  return README.slice(start, README.indexOf('\n## ', start + 1))
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line.split('|').map((cell) => cell.trim())
      const keys = [...(cells[1] ?? '').matchAll(/`([^`]+)`/g)].map((match) => `${prefix}${match[1]}`)
      return { keys, range: cells[rangeColumn] ?? '', default: cells[3] ?? '' }
    })
}

/** A `autoStop.<breaker>.*` row as one row per field: `` `windowMs` ms 1000–3600000, … `` beside `60000, …`. */
function breakerRows(row: Row): Row[] {
  const section = (row.keys[0] as string).slice(0, -2)
  const fields = row.range.split(/, (?=`)/)
  const defaults = row.default.split(', ')
  expect(fields.length).toBe(defaults.length)
  return fields.map((field, index) => ({ keys: [`${section}.${/^`([^`]+)`/.exec(field)?.[1]}`], range: field, default: defaults[index] as string }))
}

const CONFIG_ROWS = rows('Configuration', 2, '').flatMap((row) => (/^autoStop\.\w+\.\*$/.test(row.keys[0] ?? '') ? breakerRows(row) : [row]))
const ROWS = [...CONFIG_ROWS, ...rows('Kernel parameters', 4, 'kernel.')]

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, PiB: 1024 ** 5 }
const NUMBER = String.raw`\d+(?: [KMGP]iB)?`
function numberOf(text: string): number {
  const [, digits, unit] = /^(\d+)(?: ([KMGP]iB))?$/.exec(text) ?? []
  return Number(digits) * (unit === undefined ? 1 : (UNITS[unit] as number))
}

/** What a probed field needs of the others for its stated ends to load. */
const CONTEXT: Record<string, object> = {
  'auth.jwksStaleMaxMs': { auth: { jwksReloadMs: 1_000 } },
  'venueHealth.samplesMax': { venueHealth: { samplesMin: 1 } },
  'venueHealth.samplesMin': { venueHealth: { samplesMax: 100_000 } },
  'venueHealth.degradedScoreMax': { venueHealth: { criticalScoreMax: 0 } },
  'venueHealth.criticalScoreMax': { venueHealth: { degradedScoreMax: 99 } },
  'kernel.terminalOrdersHeldMax': { kernel: { terminalOrdersKeptMax: 1 } },
  'kernel.idempotencyKeysHeldMax': { kernel: { terminalOrdersKeptMax: 1 } },
}

/** A config with `value` at `path` (`accounts[].policy.x`: in the one account), over the path's CONTEXT. */
function configWith(path: string, value: number): object {
  const root = structuredClone(CONTEXT[path] ?? {}) as Record<string, unknown>
  const parts = path.split('.')
  let node = root
  parts.forEach((part, index) => {
    const name = part.replace(/\[\]$/, '')
    if (index === parts.length - 1) node[name] = value
    else if (part.endsWith('[]')) node = ((node[name] ??= [{ id: 'demo-1' }]) as Record<string, unknown>[])[0] as Record<string, unknown>
    else node = (node[name] ??= {}) as Record<string, unknown>
  })
  // A bucket takes both of its fields.
  const bucket = /^backpressure\.(\w+)\.(ratePerSec|burst)$/.exec(path)?.[1]
  if (bucket !== undefined) root.backpressure = { [bucket]: { ratePerSec: 1, burst: 1, ...(root.backpressure as Record<string, object>)[bucket] } }
  return root
}

function loads(path: string, value: number): boolean {
  try {
    parseConfig(configWith(path, value))
    return true
  } catch (error) {
    if (error instanceof ConfigError) return false
    throw error
  }
}

/** The settings the gateway runs with when a field is unset: the parsed `{}`, with the fallbacks the runtime applies. */
function runtimeDefaults(): Record<string, unknown> {
  const config = defaultConfig()
  const paper = paperPolicy('demo-1', [], 0)
  const policy = { maxOpenOrders: paper.maxOpenOrders, liveAllowed: paper.liveAllowed, validFrom: paper.validFromMs, selfTrade: paper.selfTrade }
  return {
    ...config,
    wal: { ...config.wal, quarantineFilesWarn: config.wal.quarantineFilesWarn ?? QUARANTINE_FILES_WARN, quarantineBytesWarn: config.wal.quarantineBytesWarn ?? QUARANTINE_BYTES_WARN },
    auth: { ...config.auth, tokenTtlSecMax: config.auth.tokenTtlSecMax ?? TOKEN_TTL_SEC_MAX_DEFAULT },
    audit: { ...config.audit, anchorEveryMs: ANCHOR_EVERY_MS_DEFAULT, anchorsFileBytesMax: ANCHORS_FILE_BYTES_MAX_DEFAULT },
    backpressure: { ...config.backpressure, read: readBudgetOf(config.backpressure) },
    snapshots: snapshotsConfigOf(config),
    backoffice: backOfficeConfigOf(config),
    executor: { lane3Every: EXECUTOR_LANE3_EVERY },
    collector: collectorConfigOf(config),
    storage: storageConfigOf(config),
    venueHealth: venueHealthConfigOf(config),
    autoStop: v.parse(AUTO_STOP, { venueRejects: {}, unknownOrders: {}, orderRate: {}, ackLatency: {} }),
    kernel: defaultKernelParams(),
    accounts: config.accounts.map((account) => ({ ...account, policy })),
    defaultPolicy: policy,
  }
}
const RUNTIME = runtimeDefaults()

function valueAt(path: string): unknown {
  return path.split('.').reduce<unknown>((node, part) => {
    const name = part.replace(/\[\]$/, '')
    const next = (node as Record<string, unknown> | undefined)?.[name]
    return part.endsWith('[]') ? (next as unknown[] | undefined)?.[0] : next
  }, RUNTIME)
}

/** The stated default of each key: a number, a boolean or one value in backticks; null when the cell says more. */
function statedDefaults(row: Row): (number | boolean | string)[] | null {
  const one = (text: string): number | boolean | string | null => {
    if (new RegExp(`^${NUMBER}( \\(.*\\))?$`).test(text)) return numberOf(/^\d+(?: [KMGP]iB)?/.exec(text)?.[0] as string)
    if (text === 'true' || text === 'false') return text === 'true'
    const quoted = /^`([^`"<]+)`$/.exec(text)?.[1]
    return quoted ?? null
  }
  const parts = row.keys.length > 1 ? row.default.split(', ') : [row.default]
  const values = parts.map(one)
  if (values.some((value) => value === null)) return null
  return row.keys.map((_, index) => values[values.length === 1 ? 0 : index] as number | boolean | string)
}

describe('the README configuration tables', () => {
  test('every stated range is the field\'s: its ends load, one past either end is refused', () => {
    const problems: string[] = []
    let probed = 0
    for (const row of ROWS) {
      const range = new RegExp(`(?:(0) or )?(${NUMBER})–(${NUMBER})`).exec(row.range)
      if (range === null) continue
      const [low, high] = [numberOf(range[2] as string), numberOf(range[3] as string)]
      for (const key of row.keys.filter((name) => !name.endsWith('*'))) {
        probed += 1
        const wrong = [
          loads(key, low) ? null : `${low} refused`,
          loads(key, high) ? null : `${high} refused`,
          loads(key, high + 1) ? `${high + 1} loads` : null,
          range[1] !== undefined && !loads(key, 0) ? '0 refused' : null,
          (range[1] === undefined || low > 1) && loads(key, low - 1) ? `${low - 1} loads` : null,
        ].filter((problem) => problem !== null)
        if (wrong.length > 0) problems.push(`${key} (README ${range[0]}): ${wrong.join(', ')}`)
      }
    }
    expect(problems).toEqual([])
    expect(probed).toBeGreaterThan(70)
  })

  test('every stated default is what the gateway runs with when the field is unset', () => {
    const problems: string[] = []
    let compared = 0
    for (const row of ROWS) {
      const stated = statedDefaults(row)
      if (stated === null) continue
      row.keys.forEach((key, index) => {
        compared += 1
        const actual = valueAt(key)
        if (actual !== stated[index]) problems.push(`${key}: README ${JSON.stringify(stated[index])}, runs with ${JSON.stringify(actual)}`)
      })
    }
    expect(problems).toEqual([])
    expect(compared).toBeGreaterThan(80)
  })
})
