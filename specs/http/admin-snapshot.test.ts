import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { auth, errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { parseExposition } from './metrics/exposition.ts'

let t: TestGateway
const tokens: Record<string, string> = {}

beforeAll(async () => {
  t = await startTestGateway()
  for (const role of ['trader', 'bot', 'auditor', 'ops', 'admin'] as const) tokens[role] = await t.token({ sub: `${role}-user`, roles: [role], accounts: role === 'trader' || role === 'bot' ? ['demo-1'] : [] })
})
afterAll(async () => t.stop())

async function placeOne(key: string): Promise<void> {
  const res = await t.request('/v1/orders', post(tokens.trader as string, LIMIT_BUY, { 'Idempotency-Key': key }))
  expect(res.status).toBe(202)
}

describe('POST /v1/admin/snapshot', () => {
  test('trader, bot and auditor get 403, no token 401; nothing is written', async () => {
    const before = t.gateway.snapshotter.stats.taken
    for (const role of ['trader', 'bot', 'auditor']) {
      const res = await t.request('/v1/admin/snapshot', post(tokens[role] as string, {}))
      expect(res.status).toBe(403)
      expect(errorCode(await json(res))).toBe('FORBIDDEN')
    }
    expect((await t.request('/v1/admin/snapshot', { method: 'POST' })).status).toBe(401)
    expect(t.gateway.snapshotter.stats.taken).toBe(before)
  })

  test('admin takes one: LSN, file, digest, bytes and the pause; a repeat with nothing new says so', async () => {
    await placeOne('snap-1')
    const before = t.gateway.engine.state.lastLsn
    const res = await t.request('/v1/admin/snapshot', { method: 'POST', headers: auth(tokens.admin as string) })
    expect(res.status).toBe(200)
    const body = await json(res)
    // At the state's LSN when it was taken (the venue may answer the order meanwhile and move the state on).
    expect(body.taken).toBe(true)
    expect(body.lsn as number).toBeGreaterThanOrEqual(before)
    expect(body.lsn as number).toBeLessThanOrEqual(t.gateway.engine.state.lastLsn)
    expect(body.file).toMatch(/^snapshot-\d{20}\.snap$/)
    expect(body.digest).toMatch(/^[0-9a-f]{64}$/)
    expect(body.pause_ms as number).toBeGreaterThan(0)
    expect(body.total_ms as number).toBeGreaterThanOrEqual(body.pause_ms as number)
    expect(existsSync(join(t.dir, 'snapshots', body.file as string))).toBe(true)
    // The venue may still be answering the order (new records): repeat until the state stands still.
    let again = await json(await t.request('/v1/admin/snapshot', post(tokens.admin as string, {})))
    for (let attempt = 0; attempt < 50 && again.taken === true; attempt++) {
      await Bun.sleep(20)
      again = await json(await t.request('/v1/admin/snapshot', post(tokens.admin as string, {})))
    }
    const newest = t.gateway.snapshotter.stats.last
    expect(again).toMatchObject({ taken: false, newest: { lsn: newest?.lsn, file: newest?.file } })
  })

  test("with compaction on, the answer says what was removed and whether the audit self-check held it back", async () => {
    // Small segments: the orders below fill several, all past the point the self-check verified at start.
    const compacting = await startTestGateway({ config: { snapshots: { keep: 1, compaction: 'delete' } }, wal: { segmentBytesMax: 4096 } })
    try {
      const admin = await compacting.token({ sub: 'admin-user', roles: ['admin'], accounts: [] })
      const trader = await compacting.token({ sub: 'trader-user', roles: ['trader'], accounts: ['demo-1'] })
      const verified = compacting.gateway.audit?.verifiedThroughLsn ?? 0
      for (let index = 0; index < 20; index++) {
        expect((await compacting.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `compact-${index}` }))).status).toBe(202)
      }
      expect(compacting.gateway.engine.wal.segments.length).toBeGreaterThan(2)
      const body = await json(await compacting.request('/v1/admin/snapshot', post(admin, {})))
      expect(body.taken).toBe(true)
      expect(body.compaction).toEqual({ removed: [], first_lsn: 1, mode: 'delete', held_back: true, bound_lsn: verified + 1 })
    } finally {
      await compacting.stop()
    }
  })

  test('ops may take one too', async () => {
    await placeOne('snap-2')
    const res = await t.request('/v1/admin/snapshot', post(tokens.ops as string, {}))
    expect(res.status).toBe(200)
    expect((await json(res)).taken).toBe(true)
  })

  test('a body with unknown fields is 400', async () => {
    const res = await t.request('/v1/admin/snapshot', post(tokens.admin as string, { now: true }))
    expect(res.status).toBe(400)
    expect(errorCode(await json(res))).toBe('VALIDATION_FAILED')
  })

  test('a snapshot that cannot be written is 503 UNAVAILABLE naming why, never a 500; the next one works again', async () => {
    await placeOne('snap-3')
    const dir = join(t.dir, 'snapshots')
    const aside = join(t.dir, 'snapshots-aside')
    renameSync(dir, aside)
    writeFileSync(dir, 'not a directory')
    try {
      const res = await t.request('/v1/admin/snapshot', post(tokens.admin as string, {}))
      expect(res.status).toBe(503)
      const body = await json(res)
      expect(errorCode(body)).toBe('UNAVAILABLE')
      expect((body.error as { details: { reason: string } }).details.reason).toBe('snapshot_failed')
      expect(t.gateway.snapshotter.stats.failed).toBeGreaterThan(0)
    } finally {
      rmSync(dir, { force: true })
      renameSync(aside, dir)
    }
    expect((await json(await t.request('/v1/admin/snapshot', post(tokens.admin as string, {})))).taken).toBe(true)
  })

  test('/metrics exposes the snapshot pause, block, counts (as counters) and newest LSN', async () => {
    const text = await (await t.request('/metrics', { headers: auth(tokens.admin as string) })).text()
    const exposition = parseExposition(text)
    expect(exposition.problems).toEqual([])
    const typeOf = (name: string): string | undefined => exposition.families.get(name)?.type
    for (const name of ['egress_snapshot_pause_seconds_last', 'egress_snapshot_pause_seconds_max', 'egress_snapshot_block_seconds_max', 'egress_snapshot_last_lsn']) {
      expect({ name, type: typeOf(name) }).toEqual({ name, type: 'gauge' })
    }
    // Running totals since start only go up: counters with _total names, so rate() and increase() apply.
    for (const name of ['egress_snapshots_taken_total', 'egress_snapshots_failed_total']) expect({ name, type: typeOf(name) }).toEqual({ name, type: 'counter' })
    expect(exposition.families.get('egress_snapshots_taken_total')?.samples[0]?.value).toBe(t.gateway.snapshotter.stats.taken)
    expect(exposition.families.get('egress_snapshots_failed_total')?.samples[0]?.value).toBe(t.gateway.snapshotter.stats.failed)
    const pauseMax = Number(/^egress_snapshot_pause_seconds_max (\S+)$/m.exec(text)?.[1])
    expect(pauseMax).toBeGreaterThan(0)
    expect(Number(/^egress_snapshot_last_lsn (\S+)$/m.exec(text)?.[1])).toBe(t.gateway.snapshotter.stats.last?.lsn as number)
  })

  test('snapshots disabled in the config: 409 CONFLICT naming it, nothing written, none at shutdown either', async () => {
    const disabled = await startTestGateway({ config: { snapshots: { enabled: false } } })
    try {
      const admin = await disabled.token({ sub: 'adam', roles: ['admin'], accounts: [] })
      const res = await disabled.request('/v1/admin/snapshot', post(admin, {}))
      expect(res.status).toBe(409)
      const body = await json(res)
      expect(errorCode(body)).toBe('CONFLICT')
      expect((body.error as { details: { reason: string } }).details.reason).toBe('snapshots_disabled')
      expect(existsSync(join(disabled.dir, 'snapshots'))).toBe(false)
      expect(disabled.gateway.snapshotPolicy).toMatchObject({ enabled: false, atShutdown: false })
    } finally {
      await disabled.stop()
    }
  })

  test('/openapi.json lists the route', async () => {
    const doc = await json(await t.request('/openapi.json'))
    expect(Object.keys(doc.paths as object)).toContain('/v1/admin/snapshot')
  })
})

