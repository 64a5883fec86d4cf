import { describe, expect, test } from 'bun:test'
import { WorkerChannel } from '../../src/runtime/worker-channel.ts'

type Request = { id: number; value: string; hold?: boolean }
type Reply = { id: number; echo: string } | { id: number; failed: string }

const URL_OF_WORKER = new URL('./fixtures/channel-worker.ts', import.meta.url).href

function channel(): { channel: WorkerChannel<Request, Reply>; lost: () => number } {
  let lost = 0
  const made = new WorkerChannel<Request, Reply>({ url: URL_OF_WORKER, failed: (id, message) => ({ id, failed: message }), onLost: () => void lost++ })
  return { channel: made, lost: () => lost }
}

const workerOf = (made: WorkerChannel<Request, Reply>): Worker => (made as unknown as { worker: Worker }).worker

describe('WorkerChannel', () => {
  test('answers each request by its id, from one thread spawned on first use', async () => {
    const { channel: made } = channel()
    expect(made.running).toBe(false)
    const [a, b] = await Promise.all([made.request({ id: 1, value: 'a' }), made.request({ id: 2, value: 'b' })])
    expect(a).toEqual({ id: 1, echo: 'a' })
    expect(b).toEqual({ id: 2, echo: 'b' })
    expect(made.running).toBe(true)
    made.stop('done')
  })

  test('a thread lost under a request answers it as failed and tells the owner; the next request gets a new thread', async () => {
    const { channel: made, lost } = channel()
    const held = made.request({ id: 1, value: 'never', hold: true })
    await Bun.sleep(10) // posted, and not answered
    workerOf(made).terminate()
    expect(await held).toEqual({ id: 1, failed: 'the thread exited' })
    expect(lost()).toBe(1)
    expect(made.running).toBe(false)
    expect(await made.request({ id: 2, value: 'again' })).toEqual({ id: 2, echo: 'again' })
    made.stop('done')
  })

  test("keeps what the thread said of its priority at start while that thread lives; id 0 is not a request's", async () => {
    const { channel: made } = channel()
    expect(made.status).toEqual({ running: false, priority: null, answerWaitingMs: 0 })
    expect(() => made.request({ id: 0, value: 'x' })).toThrow("request id 0 is the thread's start message")
    // The start message comes before any answer: by the first answer the channel holds what the thread said.
    const said = (await made.request({ id: 1, value: 'priority' })) as { echo: string }
    expect(made.status.priority).toEqual(JSON.parse(said.echo))
    if (process.platform === 'linux') expect(made.status.priority).toMatchObject({ lowered: true, nice: 19 })
    workerOf(made).terminate()
    for (const deadline = Date.now() + 5_000; made.running && Date.now() < deadline; ) await Bun.sleep(5) // its close event
    expect(made.running).toBe(false)
    expect(made.status.priority).toBeNull()
    made.stop('done')
  })

  test.if(process.platform === 'linux')("a lowered worker's collection leaves the collector's shared helper threads at normal priority", async () => {
    const run = Bun.spawn([process.execPath, new URL('./fixtures/shared-threads-main.ts', import.meta.url).pathname], { stdout: 'pipe', stderr: 'pipe' })
    const [out, code] = await Promise.all([new Response(run.stdout).text(), run.exited])
    expect(code).toBe(0)
    const threads = JSON.parse(out) as { name: string; policy: number }[]
    const helpers = threads.filter((thread) => thread.name === 'HeapHelper')
    expect(helpers.length).toBeGreaterThan(0)
    for (const helper of helpers) expect(helper.policy).toBe(0) // SCHED_NORMAL, not the worker's SCHED_IDLE (5)
  })

  test('says how long the oldest unanswered request has waited, and 0 once it is answered', async () => {
    const { channel: made } = channel()
    const held = made.request({ id: 1, value: 'never', hold: true })
    await Bun.sleep(30)
    expect(made.status.answerWaitingMs).toBeGreaterThanOrEqual(25)
    expect(made.status.running).toBe(true)
    made.stop('done')
    await held
    expect(made.status.answerWaitingMs).toBe(0)
  })

  test('stop answers what is under way as failed, and every later request without a thread', async () => {
    const { channel: made } = channel()
    const held = made.request({ id: 1, value: 'never', hold: true })
    made.stop('the owner stopped')
    expect(await held).toEqual({ id: 1, failed: 'the owner stopped' })
    expect(await made.request({ id: 2, value: 'late' })).toEqual({ id: 2, failed: 'the thread was stopped' })
    expect(made.running).toBe(false)
  })
})
