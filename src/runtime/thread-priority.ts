/**
 * Background threads give way to the event loop. The self-check and replay workers do work that may wait (a check
 * found later, a fold a reconcile waits for), while the event loop answers orders; on a machine with few cores the
 * kernel's scheduler shares them out evenly unless told otherwise, and a worker re-deriving 30 s of log for a second
 * took a core the loop, the log's fsync thread or the venue link needed (bench:http on 2 cores: loop lag of 60–170 ms
 * per 250 ms while the self-check thread ran, with the loop itself 60 % busy).
 *
 * On Linux every thread has its own scheduling: a worker lowers its own at start, through bun:ffi and the C library —
 * nice 19 (setpriority on its thread id), then the SCHED_IDLE policy (sched_setscheduler). Nice 19 alone was not
 * enough: under the kernel's EEVDF scheduler a running thread keeps its core until its time slice ends (about a
 * millisecond or more), however low its nice value, so an event loop woken by a socket or an fsync waited behind the
 * worker; in bench:http's half-load rounds, with the replay worker folding, the loop thread spent 25–30 % of its time
 * runnable but not running (/proc schedstat). A SCHED_IDLE thread is preempted at once by any normal thread that
 * wakes. It runs only on a core nothing else wants — enough at anything below full load; under sustained full load a
 * check or fold falls behind until the load eases, which both tolerate. Elsewhere, or if the C library cannot be
 * opened, nothing changes and the answer says why; a refused SCHED_IDLE leaves the nice value lowered and says so.
 */

import { FFIType, dlopen } from 'bun:ffi'

/** The lowest priority a thread can ask for (nice 19). */
export const BACKGROUND_NICE = 19

let sharedThreadsPrepared = false

/**
 * JavaScriptCore's collector helper threads (HeapHelper) are shared by every heap in the process and made by the
 * first collection that wants one; a new thread inherits its maker's nice value and policy. Made by a lowered worker's
 * collection, they would run the event loop's own collections at SCHED_IDLE too (seen: a gateway whose HeapHelper was
 * nice 19, policy 5). One full collection on the calling (main) thread before the first worker starts makes them at
 * its priority. Later calls do nothing.
 */
export function prepareSharedThreads(): void {
  if (sharedThreadsPrepared) return
  sharedThreadsPrepared = true
  Bun.gc(true)
}

/** Linux's scheduling policies, as sched_setscheduler names them. */
const SCHED_IDLE = 5

export type PriorityOutcome =
  | { lowered: true; threadId: number; nice: number; policy: 'idle' | 'normal'; policyRefusal?: string }
  | { lowered: false; reason: string }

/**
 * Lowers the calling thread (not the process) to `nice` and the SCHED_IDLE policy; a no-op with a reason where that is
 * not possible.
 */
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
    if (status !== 0) return { lowered: false, reason: `setpriority refused (status ${status})` }
    // struct sched_param { int sched_priority; }: 0, the only priority SCHED_IDLE takes.
    const idleStatus = libc.symbols.sched_setscheduler(threadId, SCHED_IDLE, new Int32Array(1))
    if (idleStatus !== 0) return { lowered: true, threadId, nice, policy: 'normal', policyRefusal: `sched_setscheduler(SCHED_IDLE) refused (status ${idleStatus})` }
    return { lowered: true, threadId, nice, policy: 'idle' }
  } finally {
    libc.close()
  }
}

function openLibc() {
  return dlopen('libc.so.6', {
    gettid: { args: [], returns: FFIType.i32 },
    setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  })
}
