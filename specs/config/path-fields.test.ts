/**
 * The config's paths refused at load when no file call could ever use them, naming their field (review):
 *
 * - A NUL character passed the path pattern (`.` matches it), and every file call on it threw ERR_INVALID_ARG_VALUE
 *   later: a data dir's was reported as "auth.hs256Secret: secret file … cannot read", an anchors file, archive or
 *   forensics dir's let the gateway start and failed only when first written.
 * - A data dir that is a symbolic link loop was reported the same way (ELOOP blamed on auth.hs256Secret), by `serve`
 *   and `token`; an anchors file that is one let the start go on, every anchor write failing.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, parseConfig } from '../../src/config/index.ts'
import { fixServeConfigAt } from '../cli/serve-fix-config.ts'
import { messageOf } from './support.ts'

const dir = mkdtempSync(join(tmpdir(), 'egress-config-paths-'))
const loop = join(dir, 'loop-a')
symlinkSync(join(dir, 'loop-b'), loop)
symlinkSync(loop, join(dir, 'loop-b'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

test.each([
  ['dataDir', { dataDir: '/tmp/a\u0000b' }],
  ['auth.jwksFile', { auth: { jwksFile: '/tmp/a\u0000b' } }],
  ['audit.anchorsFile', { audit: { anchorsFile: '/tmp/a\u0000b' } }],
  ['audit.forensicsDir', { audit: { forensicsDir: '/tmp/a\u0000b' } }],
  ['snapshots.archiveDir', { snapshots: { compaction: 'archive', archiveDir: '/tmp/a\u0000b' } }],
])('%s with a NUL character is refused naming it', (field, input) => {
  expect(messageOf(() => parseConfig(input))).toBe(`${field}: expected a path without a NUL character, got "/tmp/a\\u0000b"`)
})

test('a data dir that is a symbolic link loop names dataDir, not auth.hs256Secret', () => {
  expect(messageOf(() => loadConfig({ env: { EGRESS_DATA_DIR: loop } }))).toBe(
    `dataDir: expected a directory, got ${JSON.stringify(loop)}: a symbolic link loop (ELOOP) (from env EGRESS_DATA_DIR)`,
  )
})

test('an anchors file that is a symbolic link loop names audit.anchorsFile at load', () => {
  const path = join(dir, 'egress.json')
  writeFileSync(path, JSON.stringify({ audit: { anchorsFile: loop } }))
  expect(messageOf(() => loadConfig({ configPath: path, env: {} }))).toBe(
    `audit.anchorsFile: expected a regular file (or none yet), got ${JSON.stringify(loop)}: a symbolic link loop (ELOOP)`,
  )
})

/** A FIX venue's CA file took the same care: a number was "Invalid type: Expected string but received 5", a NUL passed. */
test('a FIX venue tls.caFile that is no path names the field in the config\'s words', () => {
  expect(messageOf(() => fixServeConfigAt(dir, { tls: { caFile: 5 } }))).toBe('venues.0.tls.caFile: expected a non-empty path, got 5')
  expect(messageOf(() => fixServeConfigAt(dir, { tls: { caFile: 'a\u0000b' } }))).toBe('venues.0.tls.caFile: expected a path without a NUL character, got "a\\u0000b"')
})
