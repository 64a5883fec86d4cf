import { afterEach, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { Lease, readCurrentLease } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

/**
 * An acquire writes its record to a temp file named after the holder id, then links it into place. The holder id is
 * `<node id> <advertised URL>`, and `--advertise-url` takes up to 2048 characters: taken whole into the name, an id of
 * some 220 characters or more made a name past the file system's 255 bytes, and every acquire failed with
 * ENAMETOOLONG — that node could never lead. The name now keeps a bounded part of the id and a digest of the whole.
 */
test('a holder id with a long advertised URL takes the lease, and two such holders do not share a temp file', () => {
  const dir = tempDir('egress-lease-long-')
  const url = `https://egress.example/${'p'.repeat(1_000)}`
  const first = Lease.acquire({ dir, holderId: `host-a ${url}`, ttlMs: 60_000, clockSkewMsMax: 10 })
  expect(readCurrentLease(dir)?.holderId).toBe(`host-a ${url}`)
  first.renew()
  first.release()
  const second = Lease.acquire({ dir, holderId: `host-a ${url}/other`, ttlMs: 60_000, clockSkewMsMax: 10 })
  expect(second.epoch).toBe(first.epoch + 1)
  expect(readCurrentLease(dir)?.holderId).toBe(`host-a ${url}/other`)
  for (const name of readdirSync(dir)) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255)
})
