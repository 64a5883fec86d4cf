/**
 * The independent counterpart: QuickFIX/C++'s `executor` example from Debian's libquickfix-doc (an acceptor that
 * fills every limit order in full at its limit price). This helper finds the compiled example, unpacks it into a temp
 * directory, writes a settings file for one session on a free loopback port, starts it, and stops it by its pid.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Subprocess } from 'bun'
import { freePort } from '../../../scripts/support/loopback.ts'

export const EXECUTOR_GZ = '/usr/share/doc/libquickfix-doc/examples/executor/C++/.libs/executor.gz'
const LIBQUICKFIX = ['/usr/lib/x86_64-linux-gnu/libquickfix.so.17', '/usr/lib/aarch64-linux-gnu/libquickfix.so.17']

/** Why the executor cannot run here, or null when it can. */
export function executorMissing(): string | null {
  if (!existsSync(EXECUTOR_GZ)) return `${EXECUTOR_GZ} not found (apt-get install libquickfix-doc)`
  if (!LIBQUICKFIX.some((path) => existsSync(path))) return 'libquickfix.so.17 not found (apt-get install libquickfix17)'
  return null
}

export interface ExecutorSession {
  beginString: 'FIX.4.2' | 'FIX.4.4'
  /** The executor's CompID (egress's TargetCompID). */
  compId: string
  /** Egress's CompID. */
  peerCompId: string
}

export class QuickFixExecutor {
  readonly dir: string
  readonly binary: string
  port = 0
  #process: Subprocess | null = null

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'egress-quickfix-'))
    this.binary = join(this.dir, 'executor')
    writeFileSync(this.binary, gunzipSync(readFileSync(EXECUTOR_GZ)))
    chmodSync(this.binary, 0o755)
  }

  get logPath(): string {
    return join(this.dir, 'executor.log')
  }

  /** Starts the acceptor (on the same port as before when restarted) and waits until it accepts connections. */
  async start(sessions: readonly ExecutorSession[]): Promise<void> {
    if (this.port === 0) this.port = await freePort()
    mkdirSync(join(this.dir, 'store'), { recursive: true })
    const lines = [
      '[DEFAULT]',
      'ConnectionType=acceptor',
      `SocketAcceptPort=${this.port}`,
      'SocketReuseAddress=Y',
      `FileStorePath=${join(this.dir, 'store')}`,
      'StartTime=00:00:00',
      'EndTime=00:00:00',
      // Debian ships no data dictionaries with the example; the executor checks the fields it reads itself.
      'UseDataDictionary=N',
      ...sessions.flatMap((s) => ['', '[SESSION]', `BeginString=${s.beginString}`, `SenderCompID=${s.compId}`, `TargetCompID=${s.peerCompId}`]),
      '',
    ]
    const config = join(this.dir, 'executor.cfg')
    writeFileSync(config, lines.join('\n'))
    this.#process = Bun.spawn([this.binary, config], { stdout: Bun.file(this.logPath), stderr: 'inherit', cwd: this.dir })
    const deadline = Date.now() + 10_000
    while (!(await canConnect(this.port))) {
      if (Date.now() > deadline) throw new Error(`executor did not listen on ${this.port}; log:\n${this.log()}`)
      if (this.#process.exitCode !== null) throw new Error(`executor exited with ${this.#process.exitCode}; log:\n${this.log()}`)
      await Bun.sleep(50)
    }
  }

  /** Kills the process this helper started (SIGKILL: a crash, its file store keeps what it had written). */
  async stop(): Promise<void> {
    const process = this.#process
    this.#process = null
    if (process === null) return
    process.kill('SIGKILL')
    await process.exited
  }

  /** Forgets the executor's sequence numbers and messages (as a venue that starts a new session would). */
  wipeStore(): void {
    rmSync(join(this.dir, 'store'), { recursive: true, force: true })
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'latin1').replaceAll('\x01', '|') : ''
  }

  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
