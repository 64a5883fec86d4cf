/**
 * What the README names, checked against the thing itself (specs/docs/runbook-reference.test.ts and
 * readme-names.test.ts use it). Each name in an inline code span is sorted into a category by its shape and checked:
 *
 * - a metric (`egress_…`) against the names a running gateway renders on /metrics (with a JWKS file, so the JWKS
 *   metrics are registered; the standby-only shadow counter by its definition in src/);
 * - a code (`UPPER_CASE`) against the README's code dictionary (the "Error codes" section) and against the code:
 *   the transport codes (src/http/errors.ts), the reason dictionary (src/domain/reasons.ts), or a literal in src/ or
 *   wal/ for the operator-facing codes; `403 CODE` also by its status; `EGRESS_…` against the variables egress reads;
 * - a route (`POST /v1/…`, `/health`) against the routes the app serves, an HA node's included (Hono's `app.routes`);
 * - `egress COMMAND --option` against the CLI's command list and that command's --help; a bare `--option` against
 *   some command's help; `bun scripts/…` and `npm run …` against the files and package.json;
 * - a config field (`auth.jwksReloadMs`, `venues[].requestTimeoutMs`, or a venue field by its own name) against the
 *   config schema; a /health field (`ha.last_takeover_lag.records_behind`) against its schema; a record type, log
 *   event or reason string (`order.suspect_marked`, `fix.gap_stalled`, `kernel_lane`) against a literal or object
 *   key in src/;
 * - a path (`src/audit/tamper.ts`) against the file system.
 *
 * Spans that fit none of these shapes (JSON bodies, placeholders like `<dataDir>/forensics`, plain words) are not
 * checked.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'bun:test'
import { COMMANDS } from '../../src/cli/index.ts'
import { CONFIG_PATH_ENV, CONFIG_SCHEMA, ENV_OVERRIDES } from '../../src/config/index.ts'
import { OTHER_ENV_NAMES } from '../../src/config/env-names.ts'
import { TAMPER_RESPONSES } from '../../src/config/schema.ts'
import { HEALTH_LEVELS } from '../../src/domain/gate.ts'
import { REASONS } from '../../src/domain/reasons.ts'
import { createApp } from '../../src/http/app.ts'
import { ERROR_CODES } from '../../src/http/errors.ts'
import { HEALTH } from '../../src/http/openapi/health-schema.ts'
import { signingKey, tempDir, writeJwks } from '../http/auth/fixtures.ts'
import { startTestGateway } from '../http/fixture.ts'
import { haHttp } from '../runtime/ha/support.ts'

const ROOT = join(import.meta.dir, '..', '..')
export const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** The text of the README section `## title`, up to the next `## ` heading. */
export function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`)
  expect({ title, found: start > 0 }).toEqual({ title, found: true })
  const end = README.indexOf('\n## ', start + 1)
  return README.slice(start, end === -1 ? undefined : end)
}

/** Every inline code span of `text` outside fenced blocks, whitespace (a span broken over two lines) collapsed. */
export function spans(text: string): string[] {
  return [...text.replace(/^[ \t]*```[\s\S]*?^[ \t]*```/gm, '').matchAll(/`([^`]+)`/g)].map((match) => (match[1] as string).replace(/\s+/g, ' ').trim())
}

/** All of src/ and wal/ as one text, for names that live as literals (operator codes, record and log event names). */
function sourceText(): string {
  const parts: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) walk(path)
      else if (entry.endsWith('.ts')) parts.push(readFileSync(path, 'utf8'))
    }
  }
  walk(join(ROOT, 'src'))
  walk(join(ROOT, 'wal'))
  return parts.join('\n')
}
const SOURCE = sourceText()
const escaped = (name: string): string => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** `name` as a string literal (any quotes) or an object key in the source. */
function inSource(name: string, flags = ''): boolean {
  const e = escaped(name)
  return new RegExp(`[\`'"]${e}[\`'"]|[{,\\s]${e}\\??\\s*:`, flags).test(SOURCE)
}

// ---------------------------------------------------------------------------------------------------------------
// The things the names are checked against.

/** The codes the README's "Error codes" section names (its two code tables and the operator-facing families). */
const README_CODES = new Set(spans(section('Error codes')).filter((span) => /^[A-Z][A-Z0-9_]*$/.test(span)))
const STATUS_OF = new Map<string, number>([
  ...Object.entries(ERROR_CODES).map(([code, status]) => [code, status] as [string, number]),
  ...Object.entries(REASONS).map(([code, info]) => [code, info.httpStatus] as [string, number]),
])
const ENV_NAMES = new Set<string>([...Object.keys(ENV_OVERRIDES), CONFIG_PATH_ENV, ...OTHER_ENV_NAMES])
/** Values written in upper case that are not codes: venue health levels and the tamper responses. */
const ENUM_VALUES = new Set<string>([...HEALTH_LEVELS, ...TAMPER_RESPONSES])

type Node = { type: string; entries?: Record<string, Node>; options?: Node[]; item?: Node; wrapped?: Node }

/** Every path of a valibot schema, inner ones too (`ha`, `ha.sync`, `ha.sync.state`), arrays marked `[]`. */
function schemaPaths(schema: Node, path: string, out: Set<string>): Set<string> {
  let node = schema
  while ((node.type === 'optional' || node.type === 'exact_optional' || node.type === 'nullable' || node.type === 'nullish') && node.wrapped !== undefined) {
    node = node.wrapped
  }
  if (path !== '') out.add(path)
  if (node.type === 'array' && node.item !== undefined) return schemaPaths(node.item, `${path}[]`, out)
  for (const option of node.options ?? []) schemaPaths(option, path, out)
  for (const [name, entry] of Object.entries(node.entries ?? {})) schemaPaths(entry, path === '' ? name : `${path}.${name}`, out)
  return out
}
const CONFIG_PATHS = schemaPaths(CONFIG_SCHEMA as unknown as Node, '', new Set())
const HEALTH_PATHS = schemaPaths(HEALTH as unknown as Node, '', new Set())

/** A config field by its path, its path without the leading sections (`tls.caFile`), or a section (`backpressure.*`). */
function isConfigField(name: string): boolean {
  if (name.endsWith('.*')) return [...CONFIG_PATHS].some((path) => path.startsWith(`${name.slice(0, -1)}`))
  return CONFIG_PATHS.has(name) || [...CONFIG_PATHS].some((path) => path.endsWith(`.${name}`))
}

/** What a running gateway serves: its routes (a single node's and an HA node's) and the metrics it renders. */
export interface Served {
  routes: { method: string; path: string }[]
  metricNames: Set<string>
  stop: () => Promise<void>
}

let served: Served | null = null

/** Starts a gateway (with a JWKS file) and reads what it serves; `stop` ends it. */
export async function startServed(): Promise<Served> {
  const jwks = join(tempDir(), 'jwks.json')
  writeJwks(jwks, [await signingKey('readme-names-1')])
  const gateway = await startTestGateway({ verifier: { jwksFile: jwks } })
  const haNode = createApp({ ...gateway.http.services, ha: haHttp({ replicationToken: 'readme-names-spec-token', heartbeatMs: 1_000 }) })
  const routes = [...gateway.http.app.routes, ...haNode.routes].filter((route) => route.method !== 'ALL').map(({ method, path }) => ({ method, path }))
  const exposition = await (await gateway.request('/metrics')).text()
  const metricNames = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] as string))
  served = { routes, metricNames, stop: () => gateway.stop() }
  return served
}

function servedNow(): Served {
  if (served === null) throw new Error('startServed() first')
  return served
}

/** Registered only on an HA standby (its engine's shadow decider): checked by its definition in src/. */
const STANDBY_ONLY_METRICS = new Set(['egress_ha_shadow_decisions_total'])

function routeServed(method: string | null, path: string): boolean {
  const { routes } = servedNow()
  const pattern = (p: string): string => p.replace(/:[A-Za-z0-9_]+/g, ':')
  return routes.some((route) => (method === null || route.method === method) && pattern(route.path) === pattern(path))
}

// ---------------------------------------------------------------------------------------------------------------
// The checks, one category each: what failed, as [name, why] pairs, so a failure lists every broken name.

function codeProblem(code: string): string | null {
  if (ENUM_VALUES.has(code)) return null
  if (!code.includes('_')) return inSource(code) ? null : 'no such value in src/ or wal/'
  if (!README_CODES.has(code)) return 'not in the README code dictionary (Error codes)'
  if (STATUS_OF.has(code)) return null
  return inSource(code) ? null : 'in the README dictionary, but in no source file'
}

function cliProblem(span: string): string | null {
  const [, name, rest = ''] = /^egress ([a-z-]+)(.*)$/.exec(span) ?? []
  const command = COMMANDS.find((candidate) => candidate.name === name)
  if (command === undefined) return `no CLI command ${JSON.stringify(name)} (egress --help)`
  if (name === 'audit' && !/^ (verify|anchor)\b/.test(rest)) return 'egress audit takes verify or anchor'
  const unknown = [...rest.matchAll(/--[a-z][a-z-]*/g)].map((match) => match[0]).filter((option) => !command.help.includes(option))
  return unknown.length === 0 ? null : `egress ${name} --help names no ${unknown.join(', ')}`
}

const PACKAGE_SCRIPTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts

export interface Category {
  name: string
  matches: (span: string) => boolean
  /** What is wrong with a name of this category, or null. */
  problem: (span: string) => string | null
}

export const CATEGORIES: Category[] = [
  {
    name: 'metric',
    matches: (span) => /^egress_[a-z0-9_]+(\{.*\})?$/.test(span),
    problem: (span) => {
      const [name = '', labels = ''] = /^(egress_[a-z0-9_]+)(\{.*\})?$/.exec(span)?.slice(1) ?? []
      const rendered = servedNow().metricNames.has(name) || (STANDBY_ONLY_METRICS.has(name) && inSource(name))
      if (!rendered) return 'not rendered on /metrics'
      const codes = [...labels.matchAll(/code="([A-Z_]+)"/g)].map((match) => match[1] as string)
      return codes.map(codeProblem).find((problem) => problem !== null) ?? null
    },
  },
  { name: 'code', matches: (span) => /^[A-Z][A-Z0-9_]*[A-Z0-9]$/.test(span) && !span.startsWith('EGRESS_'), problem: codeProblem },
  {
    name: 'environment variable',
    matches: (span) => /^EGRESS_[A-Z0-9_]+$/.test(span),
    problem: (span) => (ENV_NAMES.has(span) ? null : 'egress reads no such variable'),
  },
  {
    name: 'status and code',
    matches: (span) => /^\d{3} [A-Z][A-Z0-9_]+$/.test(span),
    problem: (span) => {
      const [status, code = ''] = span.split(' ')
      return codeProblem(code) ?? (STATUS_OF.get(code) === Number(status) ? null : `answered ${STATUS_OF.get(code)}, not ${status}`)
    },
  },
  {
    name: 'route',
    matches: (span) => /^((GET|POST) )?\/(v1\/|health|metrics|openapi\.json|replication\/)[^\s…]*[^/\s…]$/.test(span),
    problem: (span) => {
      const [method, target = ''] = span.includes(' ') ? span.split(' ') : [null, span]
      return routeServed(method ?? null, target.split('?')[0] as string) ? null : 'no such route'
    },
  },
  { name: 'cli', matches: (span) => /^egress [a-z]/.test(span), problem: cliProblem },
  {
    name: 'cli option',
    matches: (span) => /^--[a-z][a-z-]*( \S+)?$/.test(span),
    problem: (span) => (COMMANDS.some((command) => command.help.includes(span.split(' ')[0] as string)) ? null : 'no command takes it'),
  },
  {
    name: 'script',
    matches: (span) => /^(bun scripts\/|npm run )/.test(span),
    problem: (span) => {
      const file = /^bun (scripts\/\S+\.ts)/.exec(span)?.[1]
      if (file !== undefined) return existsSync(join(ROOT, file)) ? null : 'no such file'
      const script = /^npm run (\S+)/.exec(span)?.[1] ?? ''
      return script in PACKAGE_SCRIPTS ? null : 'no such package.json script'
    },
  },
  {
    name: 'path',
    matches: (span) => /^(src|wal|scripts|specs)\/[\w./-]*$/.test(span),
    problem: (span) => (existsSync(join(ROOT, span)) ? null : 'no such file or directory'),
  },
  {
    name: 'config field',
    matches: (span) => /^[a-z][a-zA-Z0-9]*([.[][\]a-zA-Z0-9.]*[a-zA-Z])?(\.\*)?$/.test(span) && (/[A-Z]/.test(span) || span.endsWith('.*') || span.includes('[]')),
    problem: (span) => (isConfigField(span) ? null : 'no such config field'),
  },
  {
    name: 'health field, record or file name',
    matches: (span) => /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/.test(span) && !span.startsWith('details.'),
    problem: (span) => (HEALTH_PATHS.has(span) || isConfigField(span) || inSource(span) ? null : 'not a /health field or config field, and in no source file'),
  },
  {
    name: 'name in the source',
    matches: (span) => /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(span) || /^egress-[a-z]+$/.test(span) || /^[A-Z][a-z]+(-[A-Z][A-Za-z]*)+$/.test(span),
    problem: (span) => (inSource(span, /-/.test(span) && /[A-Z]/.test(span) ? 'i' : '') ? null : 'in no source file'),
  },
]

/** The names of `spans` in `category`, with what is wrong with each that is wrong. */
export function checked(category: Category, names: readonly string[]): { found: number; problems: [string, string][] } {
  const mine = [...new Set(names.filter(category.matches))]
  const problems = mine.flatMap((span): [string, string][] => {
    const problem = category.problem(span)
    return problem === null ? [] : [[span, problem]]
  })
  return { found: mine.length, problems }
}

export function category(name: string): Category {
  const found = CATEGORIES.find((candidate) => candidate.name === name)
  if (found === undefined) throw new Error(`no category ${name}`)
  return found
}
