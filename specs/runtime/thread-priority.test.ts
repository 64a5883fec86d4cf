import { afterAll, describe, expect, test } from 'bun:test'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { SelfCheckThread } from '../../src/audit/index.ts'
import { lowerThreadPriority, type PriorityOutcome } from '../../src/runtime/thread-priority.ts'
import { Wal } from '../../wal/index.ts'
import { payloadRecord, removeTempDirs, tempDir } from '../audit/support.ts'

afterAll(removeTempDirs)

/** Fields of one of this process's threads' stat line, from the state (field 3) on. */
function statOf(threadId: number | 'self'): string[] {
  const stat = readFileSync(threadId === 'self' ? '/proc/thread-self/stat' : `/proc/self/task/${threadId}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** The nice value of one of this process's threads (field 19 of its stat line). */
function niceOf(threadId: number | 'self'): number {
  return Number(statOf(threadId)[16])
}

/** The scheduling policy of one of this process's threads (field 41: 0 normal, 5 SCHED_IDLE). */
function policyOf(threadId: number | 'self'): number {
  return Number(statOf(threadId)[38])
}

const SCHED_NORMAL = 0
const SCHED_IDLE = 5

function niceOfProcess(): number {
  if (process.platform !== 'linux') return 0
  const stat = readFileSync('/proc/self/stat', 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}

function threadsAtNice(nice: number): number[] {
  return readdirSync('/proc/self/task').map(Number).filter((threadId) => {
    try {
      return niceOf(threadId) === nice
    } catch {
      return false // the thread ended meanwhile
    }
  })
}

// Run under nice 19 or another policy already (chrt), a thread cannot show that it lowered itself.
describe.if(process.platform === 'linux' && niceOfProcess() < 19 && policyOf('self') === SCHED_NORMAL)('lowerThreadPriority', () => {
  test('lowers the calling thread alone to nice 19 and SCHED_IDLE: the event loop thread keeps its priority', async () => {
    const ownNice = niceOf('self')
    const ownPolicy = policyOf('self')
    const worker = new Worker(new URL('./fixtures/lower-priority-worker.ts', import.meta.url).href)
    const outcome = await new Promise<PriorityOutcome>((resolve) => {
      worker.onmessage = (event: MessageEvent<PriorityOutcome>) => resolve(event.data)
    })
    try {
      expect(outcome).toMatchObject({ lowered: true, nice: 19, policy: 'idle' })
      if (!outcome.lowered) return
      expect(niceOf(outcome.threadId)).toBe(19)
      expect(policyOf(outcome.threadId)).toBe(SCHED_IDLE)
      expect(niceOf('self')).toBe(ownNice)
      expect(policyOf('self')).toBe(ownPolicy)
    } finally {
      worker.terminate()
    }
  })

  test('a nice value outside 0..19 is refused before anything changes', () => {
    const ownNice = niceOf('self')
    expect(() => lowerThreadPriority(-5)).toThrow('nice must be an integer in 0..19, got -5')
    expect(() => lowerThreadPriority(20)).toThrow('nice must be an integer in 0..19, got 20')
    expect(niceOf('self')).toBe(ownNice)
  })

  test("the self-check's thread runs at the lowest priority", async () => {
    const wal = Wal.open(join(tempDir('egress-priority-'), 'log'), { durability: 'none', preallocateBytes: 0 })
    await wal.append([payloadRecord(1)])
    const before = new Set(threadsAtNice(19))
    const check = new SelfCheckThread({ log: wal, keys: null })
    try {
      expect(await check.check()).toBeNull()
      expect(threadsAtNice(19).filter((threadId) => !before.has(threadId)).length).toBeGreaterThanOrEqual(1)
    } finally {
      check.stop()
      await wal.close()
    }
  })
})
