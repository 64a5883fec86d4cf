/**
 * Requests to a worker thread, answered by id: the thread is spawned on first use, never holds the process up while
 * idle, and is replaced after it is lost. Used by the back office's replay worker and the audit self-check's thread.
 *
 * A thread that fails (it throws, exits, or sends an answer that cannot be read) answers everything it was asked with
 * `failed(id, why)`, and `onLost` tells the owner its thread's state is gone; the next request spawns a new thread.
 *
 * A thread says once, at start, what priority it runs at (thread-hello.ts), kept in `status` while that thread lives.
 * Before the process's first worker starts, the threads JavaScriptCore shares between heaps are made at normal
 * priority (prepareSharedThreads in thread-priority.ts), so a lowered worker cannot pass its priority on to them.
 *
 * Nothing here times a request out: a fold or a check of a long log can take minutes (and a thread at SCHED_IDLE
 * waits while the machine is busy), and a thread replaced for being slow would start its work over. Instead
 * `status.answerWaitingMs` says how long the oldest unanswered request has waited, for /health and /metrics to show
 * (a hung thread shows as a wait that only grows).
 */

import { helloPriorityOf, THREAD_HELLO_ID } from './thread-hello.ts'
import { prepareSharedThreads, type PriorityOutcome } from './thread-priority.ts'

/** A channel's thread as /health shows it. */
export interface WorkerThreadStatus {
  running: boolean
  /** What the running thread said at start; null without a thread, or before it said. */
  priority: PriorityOutcome | null
  /** How long the oldest unanswered request has waited (ms); 0 when none waits. */
  answerWaitingMs: number
}

export interface WorkerChannelOptions<Reply> {
  /** The worker's script (worker-url.ts). */
  url: string
  /** The answer to request `id` when its thread cannot give one. */
  failed: (id: number, message: string) => Reply
  /** Called when the thread was lost, before its waiting requests are answered. */
  onLost?: () => void
}

export class WorkerChannel<Request extends { id: number }, Reply extends { id: number }> {
  private readonly options: WorkerChannelOptions<Reply>
  private worker: Worker | null = null
  private priority: PriorityOutcome | null = null
  /** Unanswered requests in the order they were sent: how each is answered, and when it was sent. */
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void; sentAtMs: number }>()
  private stopped = false

  constructor(options: WorkerChannelOptions<Reply>) {
    this.options = options
  }

  /** Whether a thread is up (a new one holds none of the state earlier requests gave the old). */
  get running(): boolean {
    return this.worker !== null
  }

  get status(): WorkerThreadStatus {
    // The map keeps send order: its first entry is the oldest unanswered request.
    const oldest = this.waiting.values().next()
    return { running: this.running, priority: this.priority, answerWaitingMs: oldest.done === true ? 0 : performance.now() - oldest.value.sentAtMs }
  }

  /**
   * Sends `request`; resolves with the thread's answer, or with `failed` when there can be none. Never rejects; throws
   * at once for id 0 (the start message's: a caller's bug).
   */
  request(request: Request): Promise<Reply> {
    if (request.id === THREAD_HELLO_ID) throw new RangeError(`request id ${THREAD_HELLO_ID} is the thread's start message`)
    if (this.stopped) return Promise.resolve(this.options.failed(request.id, 'the thread was stopped'))
    const worker = this.worker ?? this.spawn()
    return new Promise((resolve) => {
      this.waiting.set(request.id, { resolve, sentAtMs: performance.now() })
      worker.ref() // an answer is awaited: the process stays up for it
      try {
        worker.postMessage(request)
      } catch (error) {
        this.waiting.delete(request.id)
        if (this.waiting.size === 0) worker.unref()
        resolve(this.options.failed(request.id, `the request did not reach the thread: ${String(error)}`))
      }
    })
  }

  /** Ends the thread for good: what it was asked is answered as failed, not waited for. */
  stop(message: string): void {
    this.stopped = true
    if (this.worker !== null) this.lost(this.worker, message)
  }

  private spawn(): Worker {
    prepareSharedThreads()
    const worker = new Worker(this.options.url)
    worker.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data
      if (reply.id === THREAD_HELLO_ID) {
        if (this.worker === worker) this.priority = helloPriorityOf(reply)
        return
      }
      const waiter = this.waiting.get(reply.id)
      this.waiting.delete(reply.id)
      if (this.waiting.size === 0) worker.unref()
      waiter?.resolve(reply)
    }
    worker.onerror = (event: ErrorEvent) => this.lost(worker, `the thread failed: ${event.message}`)
    worker.addEventListener('messageerror', () => this.lost(worker, 'an answer of the thread could not be read'))
    worker.addEventListener('close', () => this.lost(worker, 'the thread exited'))
    worker.unref() // idle, it never keeps the process up
    this.worker = worker
    return worker
  }

  private lost(worker: Worker, message: string): void {
    if (this.worker !== worker) return
    this.worker = null
    this.priority = null
    worker.terminate()
    this.options.onLost?.()
    for (const [id, { resolve }] of this.waiting) resolve(this.options.failed(id, message))
    this.waiting.clear()
  }
}
