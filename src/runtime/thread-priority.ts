/**
 * Background threads give way to the event loop. The self-check and replay workers do work that may wait (a check
 * found later, a fold a reconcile waits for), while the event loop answers orders; on a machine with few cores the
 * kernel's scheduler shares them out evenly unless told otherwise, and a worker re-deriving 30 s of log for a second
 * took a core the loop, the log's fsync thread or the venue link needed (bench:http on 2 cores: loop lag of 60–170 ms
 * per 250 ms while the self-check thread ran, with the loop itself 60 % busy).
 *
 * On Linux every thread has its own nice value: a worker lowers its own at start (setpriority on its thread id, through
 * bun:ffi and the C library), and gets a core only when no normal thread wants it — enough at anything below full
 * load; under sustained full load a check or fold falls behind until the load eases, which both tolerate. Elsewhere,
 * or if the C library cannot be opened, nothing changes and the answer says why.
 */

import { FFIType, dlopen } from 'bun:ffi'

/** The lowest priority a thread can ask for (nice 19). */
export const BACKGROUND_NICE = 19

export type PriorityOutcome = { lowered: true; threadId: number; nice: number } | { lowered: false; reason: string }

/** Lowers the calling thread (not the process) to `nice`; a no-op with a reason where that is not possible. */
export function lowerThreadPriority(nice: number = BACKGROUND_NICE): PriorityOutcome {
  if (!(Number.isInteger(nice) && nice >= 0 && nice <= 19)) throw new RangeError(`nice must be an integer in 0..19, got ${nice}`)
  if (process.platform !== 'linux') return { lowered: false, reason: `per-thread priority is Linux's (this is ${process.platform})` }
  let libc: ReturnType<typeof openLibc>
  try {
    libc = openLibc()
  } catch (error) {
    return { lowered: false, reason: `the C library could not be opened: ${error instanceof Error ? error.message : String(error)}` }
  }
  try {
    const threadId = libc.symbols.gettid()
    // PRIO_PROCESS (0) with a thread id names that thread alone (Linux threads carry their own nice value).
    const status = libc.symbols.setpriority(0, threadId, nice)
    return status === 0 ? { lowered: true, threadId, nice } : { lowered: false, reason: `setpriority refused (status ${status})` }
  } finally {
    libc.close()
  }
}

function openLibc() {
  return dlopen('libc.so.6', {
    gettid: { args: [], returns: FFIType.i32 },
    setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  })
}
