/**
 * A FIX venue's `tls.caFile` is read when the venues are built, with a bound, and must hold a PEM certificate; every
 * failure is a ConfigError naming the field and the file. Read with readFileSync before: a missing file stopped
 * `egress serve` with node's `ENOENT: no such file or directory, open …` (no field), a directory with `EISDIR: illegal
 * operation on a directory, read` (no file either), /dev/zero grew the process until ENOMEM, and a file holding no
 * certificate was taken, every TLS connect to the venue failing afterwards.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildFixVenues } from '../../src/cli/serve-fix.ts'
import { ConfigError, fixVenueConfigs, parseConfig } from '../../src/config/index.ts'
import { SimClock } from '../../src/runtime/clock.ts'

const dir = mkdtempSync(join(tmpdir(), 'egress-ca-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A self-signed EC certificate (CN egress-spec-ca, valid until 2126): a CA file as an operator would give it. */
const PEM = `-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUTx0wyVIhhvbqpXkRf7s8UvQ5dzUwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOZWdyZXNzLXNwZWMtY2EwIBcNMjYxMTIzMDIzODA3WhgPMjEy
NjEwMzAwMjM4MDdaMBkxFzAVBgNVBAMMDmVncmVzcy1zcGVjLWNhMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEM1ruAMHhme3zggrZQ2EBuQ66cVQFwLupcxrXloD5
G7bbbDloghNVBRDI60l+IvwKOyqEp/rXKg7kqyDGJPnOuqNTMFEwHQYDVR0OBBYE
FB9baWHLg+3xd8QYVQK15nYI+WYbMB8GA1UdIwQYMBaAFB9baWHLg+3xd8QYVQK1
5nYI+WYbMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgMJ7lP6kN
vgeOjTyBTat3Ae4POj5YcS+pIs6DGDAb34UCIQDROGjwKKUoHLBkERbG9Rb5ypJ8
sdMIZDW3lEqjOR0Kdw==
-----END CERTIFICATE-----
`

function build(caFile: string) {
  const config = parseConfig({
    dataDir: join(dir, 'data'),
    venues: [{
      type: 'fix', name: 'v1', host: '127.0.0.1', port: 1, beginString: 'FIX.4.4', senderCompId: 'EG', targetCompId: 'V',
      tls: { caFile }, marketData: 'static',
      instruments: [{ symbol: 'BTC-USD', baseAsset: 'BTC', quoteAsset: 'USD', tickSize: '0.01', lotSize: '0.001', minQty: '0.001', maxQty: '10', referencePrice: '100' }],
    }],
  })
  return buildFixVenues(fixVenueConfigs(config.venues), {
    clock: new SimClock({ startMs: 0 }),
    engine: () => {
      throw new Error('not started')
    },
    restoredSection: () => undefined,
  })
}

function issuesOf(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    if (error instanceof ConfigError) return error.issues
    throw error
  }
  return 'no error'
}

test('a CA file that is missing, a directory, endless or not PEM: a ConfigError on venues.N.tls.caFile naming the file', () => {
  const notPem = join(dir, 'not-pem.txt')
  writeFileSync(notPem, 'hello\n')
  const cases: Array<[string, string]> = [
    [join(dir, 'missing.pem'), 'cannot read (ENOENT)'],
    [dir, 'cannot read (EISDIR)'],
    ['/dev/zero', `cannot read (larger than ${1024 * 1024} bytes)`],
    [notPem, 'expected PEM certificates ("-----BEGIN CERTIFICATE-----")'],
  ]
  for (const [path, why] of cases) {
    expect(issuesOf(() => build(path))).toEqual([{ path: 'venues.0.tls.caFile', message: `CA file ${path}: ${why}` }])
  }
})

test('a PEM certificate is taken', () => {
  const path = join(dir, 'ca.pem')
  writeFileSync(path, PEM)
  expect(build(path).map((venue) => venue.name)).toEqual(['v1'])
})
