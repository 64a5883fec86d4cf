/**
 * The replication routes' LSNs (`GET /replication/hash?lsn=N`, `GET /replication/stream?from_lsn=N`) are integers in
 * decimal digits, no sign, no leading zero, as a standby writes them (src/http/routes/replication.ts). They were read
 * with `Number()` alone, so `lsn=` (empty) and `lsn=-0` were the genesis hash, and `0x1`, `1e0`, `1.0`, `01`, ` 1 `,
 * `0b1` were LSN 1: a stream served and a transfer slot taken for a request no standby sends. Each is now 400
 * VALIDATION_FAILED with the rule and the value in the message, and holds nothing.
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal, toHex } from '../../../wal/index.ts'
import { standbyRequestHeaders } from '../../../src/runtime/ha/index.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'
import { TOKEN, replicationApp } from './support.ts'

afterEach(removeTempDirs)

/** Non-canonical spellings of a small LSN, URL-encoded where they need it. */
const BAD_FORMS = ['', '%201%20', '%2B1', '-0', '-1', '0x1', '0b1', '0o1', '1e0', '1.0', '1.', '01', '00', 'Infinity', 'NaN', '1_0', '99999999999999999999']

/** An answer's status and error; a stream served instead (no error) is cancelled. */
async function refusal(response: Response): Promise<{ status: number; code: string; message: string }> {
  if (!(response.headers.get('Content-Type') ?? '').startsWith('application/json')) {
    await response.body?.cancel()
    return { status: response.status, code: '(none)', message: '(none)' }
  }
  const body = (await response.json()) as { error?: { code: string; message: string } }
  return { status: response.status, code: body.error?.code ?? '(none)', message: body.error?.message ?? '(none)' }
}

test('a hash LSN not in plain decimal digits is 400 VALIDATION_FAILED, never read as another LSN', async () => {
  const leader = Wal.open(tempDir(), { durability: 'none' })
  await leader.append([record('a'), record('b')])
  const app = replicationApp(() => leader)
  const auth = { headers: { Authorization: `Bearer ${TOKEN}` } }
  const answers = []
  for (const form of BAD_FORMS) answers.push({ form, ...(await refusal(await app.request(`/replication/hash?lsn=${form}`, auth))) })
  expect(answers).toEqual(BAD_FORMS.map((form) => ({ form, status: 400, code: 'VALIDATION_FAILED', message: expect.stringMatching(/^lsn must be an integer ≥ 0 in decimal digits, got "/) })))
  for (const [form, lsn] of [['0', 0], ['2', 2]] as const) {
    const answered = await app.request(`/replication/hash?lsn=${form}`, auth)
    expect({ form, status: answered.status, lsn: ((await answered.json()) as { lsn: number }).lsn }).toEqual({ form, status: 200, lsn })
  }
  await leader.close()
})

test('a stream from_lsn not in plain decimal digits is 400 VALIDATION_FAILED and serves no stream', async () => {
  const leader = Wal.open(tempDir(), { durability: 'none' })
  await leader.append([record('a'), record('b')])
  const app = replicationApp(() => leader)
  const head = toHex(new Uint8Array(32))
  const headers = standbyRequestHeaders(TOKEN)
  const answers = []
  for (const form of BAD_FORMS) answers.push({ form, ...(await refusal(await app.request(`/replication/stream?from_lsn=${form}&head=${head}`, { headers }))) })
  expect(answers).toEqual(BAD_FORMS.map((form) => ({ form, status: 400, code: 'VALIDATION_FAILED', message: expect.stringMatching(/^from_lsn must be an integer ≥ 1 in decimal digits, got "/) })))
  const served = await app.request(`/replication/stream?from_lsn=1&head=${head}`, { headers })
  expect(served.status).toBe(200)
  await served.body?.cancel()
  expect(leader.lastLsn).toBe(2)
  await leader.close()
})
