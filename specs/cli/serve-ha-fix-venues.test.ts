/**
 * FIX venues are a single node's (src/cli/ha-fix-venues.ts): `egress serve` with an HA option and config `venues` of
 * type fix exits 1, HA_FIX_VENUES_UNSUPPORTED naming the venues, before anything is written — no lease epoch taken
 * (the lease directory stays empty) and no data directory made. The refusal used to come from the gateway's start:
 * a node on an empty lease directory took epoch 1 and wrote its lease record, made the data dir (DATA_DIR_LOCK,
 * auth/), and exited 1 with a message without a code. So no takeover ever finds a FIX session to carry on: the
 * sequence numbers a takeover would need are not replicated to a standby under any policy (see the file's comment).
 */

import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'
import { serveRefusal } from './support/serve-refusal.ts'

const dir = mkdtempSync(join(tmpdir(), 'egress-serve-ha-fix-'))
const TOKEN = { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** One FIX 4.2 venue, as specs/cli/serve-fix-config.ts has it (nothing listens on its port: nothing gets that far). */
const FIX_VENUE = {
  type: 'fix', name: 'fx', host: '127.0.0.1', port: 1, beginString: 'FIX.4.2', senderCompId: 'EGRESS', targetCompId: 'EXEC',
  heartbeatIntervalSeconds: 30, resetOnLogon: 'never', marketData: 'static',
  instruments: [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }],
}

/** Runs serve with `flags` on a fresh case directory's config; its exit, stderr, and what it left in the lease and data dirs. */
async function serveWith(name: string, flags: (leaseDir: string) => string[]) {
  const at = join(dir, name)
  const leaseDir = join(at, 'lease')
  const dataDir = join(at, 'data')
  mkdirSync(leaseDir, { recursive: true })
  const configPath = join(at, 'config.json')
  writeFileSync(configPath, JSON.stringify({ dataDir, host: '127.0.0.1', port: await freePort(), wal: { durability: 'none' }, venues: [FIX_VENUE] }))
  const { code, stderr } = await serveRefusal(['--config', configPath, ...flags(leaseDir)], TOKEN)
  return { code, lastLine: stderr.split('\n').at(-1) ?? '', leaseDirHolds: readdirSync(leaseDir), dataDirMade: existsSync(dataDir) }
}

const REFUSAL =
  'egress serve: HA_FIX_VENUES_UNSUPPORTED: config venues "fx" are FIX venues, which a single node serves: not with --role, --lease-dir or --venue ' +
  "(an HA takeover cannot carry on the FIX session's sequence numbers); nothing was written. Run egress serve without the HA options, or remove the FIX venues from the config"

test.each([
  ['a node that would lead (role auto, no lease held)', (leaseDir: string) => ['--lease-dir', leaseDir]],
  ['a standby', (leaseDir: string) => ['--role', 'standby', '--lease-dir', leaseDir]],
  ['a node that waits for the lease', (leaseDir: string) => ['--role', 'leader', '--lease-dir', leaseDir, '--node-id', 'a']],
] as const)('%s with a FIX venue: exit 1, HA_FIX_VENUES_UNSUPPORTED, no lease taken, no data dir made', async (name, flags) => {
  const result = await serveWith(name.replace(/\W+/g, '-'), flags)
  expect(result).toEqual({ code: 1, lastLine: REFUSAL, leaseDirHolds: [], dataDirMade: false })
}, 30_000)
