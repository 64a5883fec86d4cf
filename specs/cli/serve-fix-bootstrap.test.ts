/**
 * The serve gateway's FIX sessions are logged on before bootstrap reconciles (DESIGN §6: reconcile with each venue,
 * only then open intake). Two orders' NewOrderSingles were written when the process crashed, unanswered: the venue
 * holds one ("held") and never got the other ("lost"). At the restart, by the time the start resolves (intake may
 * open), bootstrap has read both back over the FIX session — held is AckedOpen, lost was resent — without waiting out
 * its converge bound, and the session's numbers went on from the log (no 1/1, no reset). Before, the sessions started
 * after bootstrap: every reconcile call answered "not logged on", bootstrap waited its 10 s, and lost ended Failed.
 * In-process, against the scripted acceptor of specs/venues/fix (its transport plugged in through `fixConnect`).
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import type { FixMessage } from '../../src/venues/fix/message.ts'
import { MsgType, Tag } from '../../src/venues/fix/tags.ts'
import { fixServeConfigAt } from './serve-fix-config.ts'
import { crashServed } from './serve-fix-crash.ts'
import { FakeAcceptor, until } from '../venues/fix/fake-acceptor.ts'
import { fields } from '../venues/fix/venue-harness.ts'

const trader: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
/** serve's bootstrap bound (serve-gateway.ts convergeWaitMsMax). */
const CONVERGE_WAIT_MS_MAX = 10_000

const dirs: string[] = []
const clocks: StoppableClock[] = []
afterEach(() => {
  for (const clock of clocks.splice(0)) clock.cancelAll()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})


async function start(dir: string, acceptor: FakeAcceptor, extra: { log?: (line: string) => void; fixLogonWaitMs?: number } = {}, venueOver: Record<string, unknown> = {}): Promise<ServeGateway> {
  const clock = new StoppableClock()
  clocks.push(clock)
  return startServeGateway(fixServeConfigAt(dir, venueOver), { clock, buildCommit: 'spec', onError: () => {}, fixLog: () => {}, fixConnect: acceptor.connect, ...extra })
}

/** The process dies: nothing more is recorded or sent, and the session ends without a Logout (its number unsaved). */
async function crash(served: ServeGateway): Promise<void> {
  await crashServed(served, clocks)
}



const seqNumOf = (message: FixMessage): number => Number(message.get(Tag.MsgSeqNum))

describe('serve with a FIX venue: bootstrap reconciles over a logged-on session', () => {
  test('orders whose NewOrderSingle was unanswered at a crash are read back (held: AckedOpen; lost: resent) before the start resolves; numbers go on from the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-fix-boot-'))
    dirs.push(dir)
    const acceptor = new FakeAcceptor({ beginString: 'FIX.4.2', compId: 'EXEC', peerCompId: 'EGRESS', nowMs: () => Date.now() })

    // First run: both orders are written to the venue, which answers neither; then the crash.
    const first = await start(dir, acceptor)
    expect(await first.fixVenues[0]?.adapter.whenActive(5_000)).toBe(true)
    const ids: string[] = []
    for (const key of ['held', 'lost']) {
      const placed = await first.gateway.place(trader, { account: 'demo-1', venue: 'fx', symbol: 'IBM', side: 'buy', type: 'limit', qty: '10', price: '100', tif: 'DAY' }, key)
      if (placed.reply.kind !== 'accepted') throw new Error(`expected ${key} accepted, got ${JSON.stringify(placed.reply)}`)
      ids.push(placed.reply.orderId)
    }
    const [held, lost] = ids as [string, string]
    await until('both NewOrderSingles at the venue', () => acceptor.ofType(MsgType.NewOrderSingle).length === 2)
    await crash(first)
    const firstRun = acceptor.take()
    expect(firstRun.filter((message) => message.msgType === MsgType.Logout)).toEqual([])
    const lastSeqNumBeforeCrash = Math.max(...firstRun.map(seqNumOf))
    // First attempts: no PossResend.
    expect(firstRun.filter((message) => message.msgType === MsgType.NewOrderSingle).map((message) => message.get(Tag.PossResend) ?? null)).toEqual([null, null])

    // The venue holds held (as New) and never got lost; it acknowledges a NewOrderSingle sent again.
    const heldClOrdId = `eg-${held}`
    acceptor.onMessage = (message) => {
      const clOrdId = message.get(Tag.ClOrdID) ?? ''
      const order = { 11: clOrdId, 55: 'IBM', 54: '1', 38: '10', 44: '100', 14: '0' }
      if (message.msgType === MsgType.OrderStatusRequest) {
        const answer = clOrdId === heldClOrdId ? { ...order, 37: 'O-held', 17: `S-${clOrdId}`, 20: '3', 150: 'I', 39: '0' } : { ...order, 37: 'NONE', 17: `S-${clOrdId}`, 20: '3', 150: 'I', 39: '8', 103: '5' }
        queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields(answer)))
      }
      if (message.msgType === MsgType.NewOrderSingle) {
        queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ ...order, 37: 'O-lost', 17: `N-${clOrdId}`, 20: '0', 150: '0', 39: '0' })))
      }
    }

    const second = await start(dir, acceptor)
    const report = second.gateway.bootstrapReport
    const orders = second.gateway.engine.state.orders
    // Reconciled before the start resolved, i.e. before intake may open — and without waiting out the bound.
    expect({ held: orders.get(held)?.status, venueOrderId: orders.get(held)?.venueOrderId }).toEqual({ held: 'AckedOpen', venueOrderId: 'O-held' })
    expect(report?.inFlightMarkedUnknown).toBe(2)
    expect(report?.unknownAfterWait).toBe(0)
    expect(report?.resent).toEqual([lost])
    expect(report?.waitedMs ?? CONVERGE_WAIT_MS_MAX).toBeLessThan(CONVERGE_WAIT_MS_MAX / 2)
    await until(`${lost} acknowledged after its resend`, () => orders.get(lost)?.status === 'AckedOpen')
    expect(orders.get(lost)?.venueOrderId).toBe('O-lost')

    // The session went on from the numbers in the log: its Logon took the number after the last one written before
    // the crash, without a reset, and the venue's numbers were not asked for again.
    expect(second.fixVenues[0]?.store.loadedFrom).toBe('log')
    const secondRun = acceptor.take()
    const logon = secondRun[0]
    expect(logon?.msgType).toBe(MsgType.Logon)
    expect(logon === undefined ? null : { seqNum: seqNumOf(logon), reset: logon.get(Tag.ResetSeqNumFlag) ?? null }).toEqual({ seqNum: lastSeqNumBeforeCrash + 1, reset: null })
    expect(lastSeqNumBeforeCrash).toBeGreaterThan(1)
    expect(secondRun.filter((message) => message.msgType === MsgType.ResendRequest)).toEqual([])
    // lost's resend: the same ClOrdID, marked PossResend=Y (its first copy went out before the crash), so a venue that
    // had it after all would check the id rather than take a second order.
    const resentOrders = secondRun.filter((message) => message.msgType === MsgType.NewOrderSingle)
    expect(resentOrders.map((message) => [message.get(Tag.ClOrdID), message.get(Tag.PossResend) ?? null])).toEqual([[`eg-${lost}`, 'Y']])
    const sent = secondRun.map(seqNumOf)
    expect(sent).toEqual(sent.map((_, index) => lastSeqNumBeforeCrash + 1 + index))
    await second.stop()
  }, 30_000)

  test('a venue that does not log on in time: the start goes on after the bound and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-fix-boot-'))
    dirs.push(dir)
    const acceptor = new FakeAcceptor({ beginString: 'FIX.4.2', compId: 'EXEC', peerCompId: 'EGRESS', nowMs: () => Date.now(), autoLogon: false })
    const lines: string[] = []
    const served = await start(dir, acceptor, { log: (line) => lines.push(line), fixLogonWaitMs: 200 })
    expect(served.gateway.ready).toBe(true)
    expect(acceptor.ofType(MsgType.Logon)).toHaveLength(1)
    expect(lines.filter((line) => line.includes('FIX venue fx: not logged on within 200 ms'))).toHaveLength(1)
    await served.stop()
  }, 30_000)

  test("the bound is the venue's logonWaitMs from the config (FIX_LOGON_WAIT_MS_DEFAULT, 5 s, when unset)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-fix-boot-'))
    dirs.push(dir)
    const acceptor = new FakeAcceptor({ beginString: 'FIX.4.2', compId: 'EXEC', peerCompId: 'EGRESS', nowMs: () => Date.now(), autoLogon: false })
    const lines: string[] = []
    const startedMs = Date.now()
    const served = await start(dir, acceptor, { log: (line) => lines.push(line) }, { logonWaitMs: 300 })
    expect(served.gateway.ready).toBe(true)
    expect(served.fixVenues[0]?.logonWaitMs).toBe(300)
    expect(lines.filter((line) => line.includes('FIX venue fx: not logged on within 300 ms'))).toHaveLength(1)
    // Well under the 5 s default: the config's bound was the one waited for.
    expect(Date.now() - startedMs).toBeLessThan(4_000)
    await served.stop()
  }, 30_000)
})
