/**
 * Requests to a worker thread, answered by id: the thread is spawned on first use, never holds the process up while
 * idle, and is replaced after it is lost. Used by the back office's replay worker and the audit self-check's thread.
 *
 * A thread that fails (it throws, exits, or sends an answer that cannot be read) answers everything it was asked with
 * `failed(id, why)`, and `onLost` tells the owner its thread's state is gone; the next request spawns a new thread.
 */

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
  private readonly waiting = new Map<number, (reply: Reply) => void>()
  private stopped = false

  constructor(options: WorkerChannelOptions<Reply>) {
    this.options = options
  }

  /** Whether a thread is up (a new one holds none of the state earlier requests gave the old). */
  get running(): boolean {
    return this.worker !== null
  }

  /** Sends `request`; resolves with the thread's answer, or with `failed` when there can be none. Never rejects. */
  request(request: Request): Promise<Reply> {
    if (this.stopped) return Promise.resolve(this.options.failed(request.id, 'the thread was stopped'))
    const worker = this.worker ?? this.spawn()
    return new Promise((resolve) => {
      this.waiting.set(request.id, resolve)
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
    const worker = new Worker(this.options.url)
    worker.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data
      const resolve = this.waiting.get(reply.id)
      this.waiting.delete(reply.id)
      if (this.waiting.size === 0) worker.unref()
      resolve?.(reply)
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
    worker.terminate()
    this.options.onLost?.()
    for (const [id, resolve] of this.waiting) resolve(this.options.failed(id, message))
    this.waiting.clear()
  }
}
