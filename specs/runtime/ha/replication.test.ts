import { afterEach, describe, expect, test } from 'bun:test'
import { Wal, toHex } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { removeTempDirs, record, tempDir, text } from '../../wal/support.ts'
import { removeDir, run, startStandbyOf, startWorld, traderA } from '../harness.ts'
import { TOKEN, replicationApp, replicator, serveReplication, waitFor } from './support.ts'

afterEach(removeTempDirs)

describe('replication stream (two logs in one process)', () => {
  test('a standby pulls the leader log from its last LSN, tails it live, and ends with the same chain head', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    await leader.append(Array.from({ length: 30 }, (_, index) => record(`early-${index}`)))
    const server = serveReplication(() => leader)
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const pulling = replicator(replica, () => server.url)
    pulling.start()
    await waitFor(() => replica.lastLsn === 30, 5_000, 'catch-up')
    for (let batch = 0; batch < 10; batch++) await leader.append([record(`live-${batch}-a`), record(`live-${batch}-b`)])
    await waitFor(() => replica.lastLsn === 50, 5_000, 'live tail')
    expect(toHex(replica.chainHead)).toBe(toHex(leader.chainHead))
    expect(pulling.status.lagRecords).toBe(0)
    // Stop, let the leader move on, resume: the standby continues from its own last LSN.
    await pulling.stop()
    await leader.append([record('while-away-1'), record('while-away-2')])
    pulling.start()
    await waitFor(() => replica.lastLsn === 52, 5_000, 'resume')
    expect(Array.from(replica.read(51), (frame) => text(frame.payload))).toEqual(['while-away-1', 'while-away-2'])
    expect(toHex(replica.chainHead)).toBe(toHex(leader.chainHead))
    await pulling.stop()
    server.stop()
    await leader.close()
    await replica.close()
  })

  test('the replicator reconnects with backoff after the leader server goes away and comes back', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    await leader.append([record('a')])
    let server = serveReplication(() => leader)
    let url = server.url
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const pulling = replicator(replica, () => url)
    pulling.start()
    await waitFor(() => replica.lastLsn === 1)
    server.stop()
    await leader.append([record('b')])
    server = serveReplication(() => leader)
    url = server.url
    await waitFor(() => replica.lastLsn === 2, 5_000, 'reconnect')
    expect(pulling.status.reconnects).toBeGreaterThan(0)
    await pulling.stop()
    server.stop()
    await leader.close()
    await replica.close()
  })

  test("the node's stop signal ends a stream the leader holds open, and the replicator reconnects no more (before its own stop)", async () => {
    let streams = 0
    let aborted = 0
    // A leader that accepts every stream and never answers (a stopped process with its socket open).
    const leader = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (request) => {
        streams++
        request.signal.addEventListener('abort', () => void aborted++)
        return new Promise<Response>(() => {})
      },
    })
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const stopping = new AbortController()
    const lines: string[] = []
    const pulling = replicator(replica, () => `http://127.0.0.1:${leader.port}`, { stopSignal: stopping.signal, silenceMsMax: 60_000, log: (line) => void lines.push(line) })
    pulling.start()
    await waitFor(() => streams === 1, 5_000, 'the stream request')
    stopping.abort()
    await waitFor(() => aborted === 1, 5_000, 'the held stream aborted by the stop signal')
    // Several backoffs later: no new stream, nothing logged as a replication failure.
    await Bun.sleep(500)
    expect({ streams, aborted, connected: pulling.status.connected, lines }).toEqual({ streams: 1, aborted: 1, connected: false, lines: [] })
    await pulling.stop()
    await leader.stop(true)
    await replica.close()
  })

  test('a standby holding a record the leader does not have is told DIVERGED and appends nothing', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    await leader.append([record('a'), record('b')])
    const forked = Wal.open(tempDir(), { durability: 'none' })
    await forked.append([record('a'), record('B'), record('c')])
    await forked.close()
    // A replica built from the fork's bytes: same LSN 1, different LSN 2 and an extra LSN 3.
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const source = Wal.open(forked.dir, { durability: 'none' })
    const { rawFrameBytes } = await import('../../../wal/index.ts')
    await replica.appendFrames(Buffer.concat(Array.from(source.read(1), (frame) => rawFrameBytes(frame).slice())))
    await source.close()
    const server = serveReplication(() => leader)
    const diverged: string[] = []
    const pulling = replicator(replica, () => server.url, { onDiverged: (details) => void diverged.push(details.message) })
    pulling.start()
    await waitFor(() => diverged.length === 1, 5_000, 'DIVERGED')
    expect(replica.lastLsn).toBe(3)
    await pulling.stop()
    server.stop()
    await leader.close()
    await replica.close()
  })

  test('the replication routes refuse a missing or wrong token, a bad head, and a node that is not leading', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    const app = replicationApp(() => leader)
    const head = '0'.repeat(64)
    expect((await app.request(`/replication/stream?from_lsn=1&head=${head}`)).status).toBe(401)
    expect((await app.request(`/replication/stream?from_lsn=1&head=${head}`, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401)
    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } }
    expect((await app.request('/replication/stream?from_lsn=1&head=zz', auth)).status).toBe(400)
    expect((await app.request('/replication/hash?lsn=0', auth)).status).toBe(200)
    const standbyApp = replicationApp(() => leader, { ...(await import('./support.ts')).haHttp({ isLeader: () => false }) })
    const refused = await standbyApp.request(`/replication/stream?from_lsn=1&head=${head}`, auth)
    expect(refused.status).toBe(503)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('NOT_LEADER')
    await leader.close()
  })
})

describe('a standby gateway keeps its projections hot', () => {
  test('orders placed and filled on the leader appear on the standby with the same states and chain head', async () => {
    const world = await startWorld({ seed: 7 })
    const server = serveReplication(() => world.gateway.engine.wal)
    const { standby, dataDir: standbyDir, errors } = await startStandbyOf(world)
    expect(standby.role).toBe('standby')
    expect(standby.ready).toBe(false)
    const pulling = replicator(standby.engine.wal, () => server.url)
    pulling.start()
    for (let index = 0; index < 5; index++) {
      await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: `ha-${index}` }, null)
    }
    await run(world, 2_000)
    const leaderWal = world.gateway.engine.wal
    await waitFor(() => standby.engine.wal.lastLsn === leaderWal.lastLsn, 5_000, 'standby catch-up')
    expect(toHex(standby.engine.wal.chainHead)).toBe(toHex(leaderWal.chainHead))
    const statuses = (gateway: Gateway): string[] => [...gateway.engine.state.orders.values()].map((order) => `${order.orderId}:${order.status}`).sort()
    expect(statuses(standby)).toEqual(statuses(world.gateway))
    expect(standby.engine.state.lastLsn).toBe(world.gateway.engine.state.lastLsn)
    expect(standby.executor.stats.sends).toBe(0)
    expect(errors).toEqual([])
    await pulling.stop()
    server.stop()
    await standby.stop()
    await world.gateway.stop()
    removeDir(standbyDir)
    removeDir(world.dir)
  })
})
