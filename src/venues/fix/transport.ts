/**
 * The byte pipe under a FIX session: TCP (node:net) or TLS (node:tls). Injectable so specs can put a fault-injecting
 * wrapper (dropped or corrupted messages) between the session and a real counterpart.
 */

import * as net from 'node:net'
import * as tls from 'node:tls'

export interface FixTransportTarget {
  host: string
  port: number
  /** TLS when set; `servername` defaults to host; certificates are verified unless `rejectUnauthorized` is false. */
  tls?: { servername?: string; rejectUnauthorized?: boolean; ca?: string }
  connectTimeoutMs: number
}

export interface FixTransportEvents {
  onConnect(): void
  onData(bytes: Uint8Array): void
  /** Called once, whatever ended the connection; `error` when it was not a clean close. */
  onClose(error: Error | null): void
}

export interface FixTransport {
  /** Queues bytes for the peer. Returns the bytes queued and not yet written (for the write-buffer bound). */
  write(bytes: Uint8Array): number
  close(): void
}

export type FixConnect = (target: FixTransportTarget, events: FixTransportEvents) => FixTransport

export function connectTcp(target: FixTransportTarget, events: FixTransportEvents): FixTransport {
  let closed = false
  const socket: net.Socket =
    target.tls === undefined
      ? net.connect({ host: target.host, port: target.port })
      : tls.connect({
          host: target.host,
          port: target.port,
          servername: target.tls.servername ?? target.host,
          rejectUnauthorized: target.tls.rejectUnauthorized ?? true,
          ...(target.tls.ca === undefined ? {} : { ca: target.tls.ca }),
        })
  socket.setNoDelay(true)
  socket.setTimeout(target.connectTimeoutMs)
  function finish(error: Error | null): void {
    if (closed) return
    closed = true
    socket.destroy()
    events.onClose(error)
  }
  socket.once(target.tls === undefined ? 'connect' : 'secureConnect', function onFixConnect() {
    socket.setTimeout(0)
    events.onConnect()
  })
  socket.on('timeout', function onFixConnectTimeout() {
    finish(new Error(`connect to ${target.host}:${target.port} timed out after ${target.connectTimeoutMs} ms`))
  })
  socket.on('data', function onFixData(chunk: Buffer) {
    if (!closed) events.onData(chunk)
  })
  socket.on('error', function onFixSocketError(error: Error) {
    finish(error)
  })
  socket.on('close', function onFixSocketClose() {
    finish(null)
  })
  return {
    write(bytes: Uint8Array): number {
      if (closed) return 0
      socket.write(bytes)
      return socket.writableLength
    },
    close(): void {
      if (closed) return
      // end() flushes queued bytes (a Logout) before the FIN; destroy follows on 'close'.
      socket.end()
      setTimeout(() => finish(null), 1000).unref()
    },
  }
}
