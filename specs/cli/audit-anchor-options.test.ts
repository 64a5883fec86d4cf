/**
 * `egress audit anchor` always checks the seals' signatures (an anchor vouches for a signed head): --no-signatures,
 * an option of `audit verify`, is refused as wrong usage. It was passed over without a word where the data directory
 * had its own key (the anchor made with that key), and where it had none the refusal told the operator, who had given
 * --no-signatures, to give "--public-key FILE, --jwks FILE or --no-signatures".
 */

import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { removeDir } from '../runtime/harness.ts'
import { stoppedDataDir } from './support/stopped-data-dir.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

function stoppedDir(seed: number): Promise<string> {
  return stoppedDataDir(seed, { orders: 3, tag: 'n', dirs })
}

test('audit anchor --no-signatures: exit 2, said to be verify\'s option, with or without the data directory\'s own key', async () => {
  const dir = await stoppedDir(601)
  const withoutKey = await cli(['audit', 'anchor', dir, '--no-signatures'])
  expect(withoutKey.code).toBe(2)
  expect(withoutKey.err).toBe('egress audit: --no-signatures is for "audit verify": "audit anchor" checks the seals\' signatures (give --public-key FILE or --jwks FILE, or none for a data directory\'s own key) (see "egress audit --help")')
  expect(withoutKey.out).toBe('')
  // The data directory's own key (as keygen writes it into DIR/audit): still refused, not passed over.
  expect((await cli(['keygen', '--out', join(dir, 'audit')])).code).toBe(0)
  const withKey = await cli(['audit', 'anchor', dir, '--no-signatures'])
  expect(withKey.code).toBe(2)
  expect(withKey.err).toContain('--no-signatures is for "audit verify"')
  // Without a key anywhere, anchor's refusal names only what anchor takes.
  const other = await stoppedDir(602)
  const none = await cli(['audit', 'anchor', other])
  expect(none.code).toBe(2)
  expect(none.err).toContain('give exactly one of --public-key FILE or --jwks FILE (DIR holds no audit/')
  // verify keeps its option.
  expect((await cli(['audit', 'verify', other, '--no-signatures'])).code).toBe(0)
})
