/**
 * The signals that stop `egress serve` (and an HA node) cleanly: SIGTERM, SIGINT and SIGHUP. SIGHUP is one because a
 * gateway started from a terminal (`npm start`) gets it when the terminal closes, and its default action ended the
 * process at once — no drain of the commit queue, no clean close of the log or the streams, no shutdown snapshot, an
 * HA leader's lease left to expire instead of released.
 *
 * A SIGHUP the process was started ignoring (`nohup egress serve`, a supervisor that sets it so) stays ignored: the
 * operator asked for the gateway to outlive its terminal, and a handler would turn the hang-up into a stop. Linux
 * tells which signals a process inherited as ignored (/proc/self/status, SigIgn); elsewhere SIGHUP is always handled.
 */

import { readFileSync } from 'node:fs'

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const
export type StopSignal = (typeof STOP_SIGNALS)[number]

/** SIGHUP's number, and so its bit (1 << (n - 1)) in /proc's signal masks. */
const SIGHUP_NUMBER = 1

/**
 * How long after the first stop signal the same signal again is taken as its echo, not as a second signal: a terminal's
 * Ctrl-C reaches the whole foreground process group, and `npm start` (which runs the gateway with `exec`, so that a
 * SIGTERM to npm's pid reaches it) passes the SIGINT it got on to its child too, milliseconds later.
 */
export const SIGNAL_ECHO_MS = 500

/**
 * Resolves with the name of the first stop signal the process gets. A second signal ends the process at once (its
 * default action): any other stop signal, or the same one after SIGNAL_ECHO_MS; the same one sooner is its echo, and
 * ignored — once: a runner passes a signal on once, so a third within the window is a second press (under `npm
 * start`, a deliberate double Ctrl-C within the window was all echoes and needed a third press).
 */
export function waitForStopSignal(signals: readonly StopSignal[] = watchedStopSignals(), options: { echoMs?: number } = {}): Promise<StopSignal> {
  return new Promise((resolve) => {
    let first: StopSignal | null = null
    let echoSeen = false
    const letThrough = (): void => {
      for (const name of signals) process.off(name, handler)
    }
    const handler = (signal: StopSignal): void => {
      if (first === null) {
        first = signal
        setTimeout(letThrough, options.echoMs ?? SIGNAL_ECHO_MS).unref()
        resolve(signal)
        return
      }
      if (signal === first && !echoSeen) {
        echoSeen = true
        return
      }
      // Another signal within the window is no echo: its default action, as once the window has passed.
      letThrough()
      process.kill(process.pid, signal)
    }
    for (const name of signals) process.on(name, handler)
  })
}

/** STOP_SIGNALS but SIGHUP when the process was started with SIGHUP ignored (nohup). */
export function watchedStopSignals(procStatus: string | null = readProcStatus()): StopSignal[] {
  return sighupIgnoredIn(procStatus) ? STOP_SIGNALS.filter((name) => name !== 'SIGHUP') : [...STOP_SIGNALS]
}

/** Whether a /proc/<pid>/status text says SIGHUP is ignored (its SigIgn mask, hexadecimal); false when unknown. */
export function sighupIgnoredIn(procStatus: string | null): boolean {
  const mask = procStatus === null ? undefined : /^SigIgn:\s*([0-9a-fA-F]+)\s*$/m.exec(procStatus)?.[1]
  if (mask === undefined) return false
  const lowestDigit = Number.parseInt(mask.slice(-1), 16)
  return (lowestDigit & (1 << (SIGHUP_NUMBER - 1))) !== 0
}

function readProcStatus(): string | null {
  try {
    return readFileSync('/proc/self/status', 'utf8')
  } catch {
    return null
  }
}
