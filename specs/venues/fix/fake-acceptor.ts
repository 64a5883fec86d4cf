/**
 * A scripted, in-process FIX acceptor for session and adapter specs: it plugs into the session as its transport
 * (`connect`), so there is no socket and, with a SimClock, no real time. It records what egress sends, answers Logon
 * (unless told not to), and lets a spec send any message — with any MsgSeqNum — or raw bytes.
 */

import { encodeFixMessage, FixFrameReader } from '../../../src/venues/fix/codec.ts'
import type { FixField, FixMessage } from '../../../src/venues/fix/message.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { formatUtcTimestamp } from '../../../src/venues/fix/time.ts'
import type { FixConnect, FixTransportEvents } from '../../../src/venues/fix/transport.ts'

export interface FakeAcceptorOptions {
  beginString?: string
  /** The acceptor's CompID (egress's TargetCompID). */
  compId?: string
  /** Egress's CompID. */
  peerCompId?: string
  /** Answer a Logon with a Logon (default true). */
  autoLogon?: boolean
  /** Refuse connections (the connect fails). */
  refuse?: boolean
}

export class FakeAcceptor {
  readonly beginString: string
  readonly compId: string
  readonly peerCompId: string
  autoLogon: boolean
  refuse: boolean
  /** Every message egress sent, over all connections, in order. */
  readonly received: FixMessage[] = []
  connections = 0
  nextSeqNum = 1
  /** Called for every message received (after recording); may answer with `send`. */
  onMessage: (message: FixMessage) => void = () => {}
  #events: FixTransportEvents | null = null
  #reader = new FixFrameReader()
  #consumed = 0

  constructor(options: FakeAcceptorOptions = {}) {
    this.beginString = options.beginString ?? 'FIX.4.2'
    this.compId = options.compId ?? 'EXEC'
    this.peerCompId = options.peerCompId ?? 'EGRESS'
    this.autoLogon = options.autoLogon ?? true
    this.refuse = options.refuse ?? false
  }

  get connected(): boolean {
    return this.#events !== null
  }

  readonly connect: FixConnect = (_target, events) => {
    this.connections++
    let open = true
    if (this.refuse) {
      queueMicrotask(() => events.onClose(new Error('connection refused')))
      return { write: () => 0, close: () => {} }
    }
    this.#events = events
    this.#reader = new FixFrameReader()
    queueMicrotask(() => events.onConnect())
    return {
      write: (bytes) => {
        if (!open) return 0
        this.#reader.push(bytes)
        for (let message = this.#reader.next(); message !== null; message = this.#reader.next()) this.#onMessage(message)
        return 0
      },
      close: () => {
        if (!open) return
        open = false
        if (this.#events === events) this.#events = null
        queueMicrotask(() => events.onClose(null))
      },
    }
  }

  /** Sends a message to egress; `seqNum` overrides (and does not advance) the acceptor's numbering. */
  send(msgType: string, body: readonly FixField[] = [], options: { seqNum?: number; possDup?: boolean; sendingTimeMs?: number } = {}): void {
    const seqNum = options.seqNum ?? this.nextSeqNum++
    const sendingTime = formatUtcTimestamp(options.sendingTimeMs ?? 1_700_000_000_000)
    const fields: FixField[] = [
      [Tag.MsgType, msgType],
      [Tag.SenderCompID, this.compId],
      [Tag.TargetCompID, this.peerCompId],
      [Tag.MsgSeqNum, String(seqNum)],
      [Tag.SendingTime, sendingTime],
    ]
    if (options.possDup === true) fields.push([Tag.PossDupFlag, 'Y'], [Tag.OrigSendingTime, sendingTime])
    fields.push(...body)
    this.sendRaw(encodeFixMessage(this.beginString, fields))
  }

  sendRaw(bytes: Uint8Array): void {
    const events = this.#events
    if (events === null) throw new Error('FakeAcceptor: no connection to send on')
    events.onData(bytes)
  }

  /** The peer drops the TCP connection. */
  dropConnection(): void {
    const events = this.#events
    this.#events = null
    events?.onClose(new Error('connection reset by peer'))
  }

  /** Messages received of this type (all connections). */
  ofType(msgType: string): FixMessage[] {
    return this.received.filter((message) => message.msgType === msgType)
  }

  /** Received messages not yet returned by `take`, in order. */
  take(): FixMessage[] {
    const out = this.received.slice(this.#consumed)
    this.#consumed = this.received.length
    return out
  }

  #onMessage(message: FixMessage): void {
    this.received.push(message)
    if (message.msgType === MsgType.Logon && this.autoLogon) {
      if (message.get(Tag.ResetSeqNumFlag) === 'Y') this.nextSeqNum = 1
      const body: FixField[] = [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, message.get(Tag.HeartBtInt) ?? '30']]
      if (message.get(Tag.ResetSeqNumFlag) === 'Y') body.push([Tag.ResetSeqNumFlag, 'Y'])
      queueMicrotask(() => this.send(MsgType.Logon, body))
    }
    if (message.msgType === MsgType.Logout && this.connected) {
      queueMicrotask(() => {
        if (this.connected) this.send(MsgType.Logout)
      })
    }
    this.onMessage(message)
  }
}

/** Lets queued promise continuations and microtasks run (writes wait on the store's flush). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve))
}
