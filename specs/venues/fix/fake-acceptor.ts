/**
 * A scripted, in-process FIX acceptor for session and adapter specs: it plugs into the session as its transport
 * (`connect`), so there is no socket and, with a SimClock, no real time. It records what egress sends, answers Logon
 * (unless told not to), and lets a spec send any message — with any MsgSeqNum, malformed, or as raw bytes — and, when
 * told to, answers ResendRequests as a venue's engine does (the same messages again, PossDupFlag=Y).
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
  /** Answer egress's ResendRequests by resending what was sent (default false: a spec answers them itself). */
  answerResends?: boolean
  /** Answer egress's Logout with a Logout (default true; false: a venue that never answers it). */
  answerLogouts?: boolean
  /**
   * The acceptor's clock, for SendingTime (egress refuses one too far from its own clock): the spec's SimClock, or the
   * wall clock for a spec running a whole gateway. Default: always 1_700_000_000_000, the SimClocks' usual start.
   */
  nowMs?: () => number
}

export interface SendOptions {
  seqNum?: number
  possDup?: boolean
  sendingTimeMs?: number
  /**
   * Numbered and kept for resends but never delivered: lost on the wire, or sent while egress was disconnected (a
   * venue's engine stores what it sends whether or not the peer is there).
   */
  lost?: boolean
}

const SOH = '\x01'
/** Session messages a resend replaces with a GapFill. */
const ADMIN_MSG_TYPES: ReadonlySet<string> = new Set([MsgType.Heartbeat, MsgType.TestRequest, MsgType.ResendRequest, MsgType.Reject, MsgType.SequenceReset, MsgType.Logout, MsgType.Logon])

/** A frame around `body` (SOH-separated fields from MsgType on) with its BodyLength and CheckSum, built by hand. */
export function rawFrame(beginString: string, body: string): Uint8Array {
  const head = Buffer.from(`8=${beginString}${SOH}9=${Buffer.byteLength(body, 'latin1')}${SOH}${body}`, 'latin1')
  const checksum = head.reduce((sum, byte) => sum + byte, 0) % 256
  return Buffer.concat([head, Buffer.from(`10=${String(checksum).padStart(3, '0')}${SOH}`, 'latin1')])
}

export class FakeAcceptor {
  readonly beginString: string
  readonly compId: string
  readonly peerCompId: string
  autoLogon: boolean
  refuse: boolean
  answerResends: boolean
  answerLogouts: boolean
  nowMs: () => number
  /** Every message egress sent, over all connections, in order. */
  readonly received: FixMessage[] = []
  connections = 0
  nextSeqNum = 1
  /** Called for every message received (after recording); may answer with `send`. */
  onMessage: (message: FixMessage) => void = () => {}
  #events: FixTransportEvents | null = null
  #reader = new FixFrameReader()
  #consumed = 0
  /** What was sent under each number (bodies after the standard header), for answering ResendRequests. */
  readonly #sentBodies = new Map<number, { msgType: string; body: string }>()

  constructor(options: FakeAcceptorOptions = {}) {
    this.beginString = options.beginString ?? 'FIX.4.2'
    this.compId = options.compId ?? 'EXEC'
    this.peerCompId = options.peerCompId ?? 'EGRESS'
    this.autoLogon = options.autoLogon ?? true
    this.refuse = options.refuse ?? false
    this.answerResends = options.answerResends ?? false
    this.answerLogouts = options.answerLogouts ?? true
    this.nowMs = options.nowMs ?? (() => 1_700_000_000_000)
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
  send(msgType: string, body: readonly FixField[] = [], options: SendOptions = {}): void {
    encodeFixMessage(this.beginString, [[Tag.MsgType, msgType], ...body]) // the encoder's checks: send only what is valid
    this.#sendBody(msgType, body.map(([tag, value]) => `${tag}=${value}${SOH}`).join(''), options)
  }

  /**
   * Sends a message whose body (after the standard header) is written as text, `|` for SOH, unchecked: what a
   * faulty venue sends (a tag without a value, a tag that is not a number) can be sent, with a right BodyLength and
   * CheckSum. Numbered, recorded and resent like `send`.
   */
  sendText(msgType: string, bodyText: string, options: SendOptions = {}): void {
    this.#sendBody(msgType, bodyText.replaceAll('|', SOH), options)
  }

  #sendBody(msgType: string, body: string, options: SendOptions): void {
    const seqNum = options.seqNum ?? this.nextSeqNum++
    if (options.seqNum === undefined) this.#sentBodies.set(seqNum, { msgType, body })
    const sendingTime = formatUtcTimestamp(options.sendingTimeMs ?? this.nowMs())
    const possDup = options.possDup === true ? `${Tag.PossDupFlag}=Y${SOH}${Tag.OrigSendingTime}=${sendingTime}${SOH}` : ''
    const header = `${Tag.MsgType}=${msgType}${SOH}${Tag.SenderCompID}=${this.compId}${SOH}${Tag.TargetCompID}=${this.peerCompId}${SOH}${Tag.MsgSeqNum}=${seqNum}${SOH}${Tag.SendingTime}=${sendingTime}${SOH}`
    if (options.lost !== true) this.sendRaw(rawFrame(this.beginString, header + possDup + body))
  }

  /**
   * Answers a ResendRequest as a venue's engine does: each application message it sent in the range again, the same
   * bytes with PossDupFlag=Y, and a SequenceReset-GapFill for each session message.
   */
  answerResend(request: FixMessage): void {
    const begin = Number(request.get(Tag.BeginSeqNo))
    const endAsked = Number(request.get(Tag.EndSeqNo))
    const end = endAsked === 0 ? this.nextSeqNum - 1 : Math.min(endAsked, this.nextSeqNum - 1)
    for (let seqNum = begin; seqNum <= end; seqNum++) {
      const sent = this.#sentBodies.get(seqNum)
      if (sent === undefined || ADMIN_MSG_TYPES.has(sent.msgType)) {
        this.send(MsgType.SequenceReset, [[Tag.GapFillFlag, 'Y'], [Tag.NewSeqNo, String(seqNum + 1)]], { seqNum, possDup: true })
      } else {
        this.#sendBody(sent.msgType, sent.body, { seqNum, possDup: true })
      }
    }
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
    if (message.msgType === MsgType.ResendRequest && this.answerResends && this.connected) queueMicrotask(() => this.answerResend(message))
    if (message.msgType === MsgType.Logout && this.answerLogouts && this.connected) {
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

/** Waits in real time (specs running a whole gateway) until `check` holds, or fails naming `what`. */
export async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}
