/** A FixSession logged on to a FakeAcceptor on a SimClock, with what it tells its handler collected: the session specs' common start. */

import { expect } from 'bun:test'
import { SimClock } from '../../../src/runtime/clock.ts'
import type { FixLogRecord } from '../../../src/venues/fix/log.ts'
import type { FixMessage } from '../../../src/venues/fix/message.ts'
import { FixSession, type FixSessionHandler, type FixSessionState } from '../../../src/venues/fix/session.ts'
import type { FixSessionOptions } from '../../../src/venues/fix/session-options.ts'
import { MemoryFixSessionStore, type FixSeqNums, type FixSessionStore } from '../../../src/venues/fix/store.ts'
import { Tag } from '../../../src/venues/fix/tags.ts'
import { FakeAcceptor, settle } from './fake-acceptor.ts'

export interface Harness {
  session: FixSession
  acceptor: FakeAcceptor
  clock: SimClock
  store: MemoryFixSessionStore
  app: FixMessage[]
  refused: FixMessage[]
  rejects: { refSeqNum: number; reason: string }[]
  abandoned: { beginSeqNum: number; endSeqNum: number; cause: string }[]
  skipped: { fromSeqNum: number; toSeqNum: number; how: string }[]
  states: FixSessionState[]
  logs: FixLogRecord[]
}

export function harness(options: Partial<FixSessionOptions> = {}, parts: { acceptor?: FakeAcceptor; store?: FixSessionStore; clock?: SimClock } = {}): Harness {
  const clock = parts.clock ?? new SimClock({ startMs: 1_700_000_000_000 })
  const acceptor = parts.acceptor ?? new FakeAcceptor()
  acceptor.nowMs = () => clock.nowMs()
  const store = (parts.store ?? new MemoryFixSessionStore()) as MemoryFixSessionStore
  const h: Omit<Harness, 'session'> = { acceptor, clock, store, app: [], refused: [], rejects: [], abandoned: [], skipped: [], states: [], logs: [] }
  const handler: FixSessionHandler = {
    onApplicationMessage: (m) => h.app.push(m),
    onMessageRefused: (m) => h.refused.push(m),
    onSessionReject: (r) => h.rejects.push({ refSeqNum: r.refSeqNum, reason: r.reason }),
    onMessagesAbandoned: (r) => h.abandoned.push(r),
    onInboundSkipped: (r) => h.skipped.push(r),
    onStateChange: (s) => h.states.push(s),
  }
  const session = new FixSession(
    {
      beginString: 'FIX.4.2',
      senderCompId: 'EGRESS',
      targetCompId: 'EXEC',
      host: '127.0.0.1',
      port: 9,
      store,
      clock,
      heartbeatIntervalSeconds: 30,
      connect: acceptor.connect,
      log: (r) => h.logs.push(r),
      ...options,
    },
    handler,
  )
  return { ...h, session }
}

export async function loggedOn(options: Partial<FixSessionOptions> = {}, parts: Parameters<typeof harness>[1] = {}): Promise<Harness> {
  const h = harness(options, parts)
  h.session.start()
  await settle()
  expect(h.session.state).toBe('active')
  return h
}

export const exec = (clOrdId: string, execId: string): [number, string][] => [[Tag.ClOrdID, clOrdId], [Tag.ExecID, execId], [Tag.ExecType, '0']]


/** A store whose saves wait (an fsync under way) while `hold` is set, until `release`. */
export function slowStore(): { store: MemoryFixSessionStore; control: { hold: boolean; release: () => void } } {
  const store = new MemoryFixSessionStore()
  const waiting: (() => void)[] = []
  const control = { hold: false, release: () => waiting.splice(0).forEach((go) => go()) }
  const save = store.save.bind(store)
  store.save = (seqNums: FixSeqNums) => (control.hold ? new Promise<void>((resolve) => waiting.push(() => resolve(save(seqNums)))) : save(seqNums))
  return { store, control }
}
