import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readCurrentLease } from '../../../wal/index.ts'

const RACER = join(import.meta.dir, 'fixtures/lease-racer.ts')
const TRIALS = 60
/** Trials run this many at a time (two processes each); every trial has its own lease directory. */
const PARALLEL = 10
const work = mkdtempSync(join(tmpdir(), 'egress-lease-race-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface Outcome {
  holderId: string
  won: boolean
  epoch: number | null
  code: string | null
}

/** Two racer processes against one lease directory, released at the same instant. */
async function trial(index: number): Promise<{ outcomes: Outcome[]; dir: string; expectedEpoch: number }> {
  const dir = join(work, `trial-${index}`)
  mkdirSync(dir)
  // Odd trials race for a fresh directory (epoch 1); even ones to take over an expired lease (epoch 8 → 9).
  const expectedEpoch = index % 2 === 0 ? 9 : 1
  if (expectedEpoch === 9) {
    writeFileSync(join(dir, 'epoch-0000000008.json'), JSON.stringify({ holderId: 'old http://gone', epoch: 8, expiresAtMs: Date.now() - 60_000, renewedAtMs: Date.now() - 65_000 }))
  }
  // Far enough ahead that both processes are up and spinning when it comes.
  const startAtMs = Date.now() + 700
  const racers = ['node-a', 'node-b'].map((holderId) => Bun.spawn([process.execPath, RACER, dir, holderId, String(startAtMs)], { stdout: 'pipe', stderr: 'pipe' }))
  const outcomes: Outcome[] = []
  for (const racer of racers) {
    const [stdout, stderr, code] = await Promise.all([new Response(racer.stdout).text(), new Response(racer.stderr).text(), racer.exited])
    if (code !== 0) throw new Error(`racer exited ${code}: ${stderr}`)
    outcomes.push(JSON.parse(stdout) as Outcome)
  }
  return { outcomes, dir, expectedEpoch }
}

describe('two nodes started at the same moment against one lease directory (real processes)', () => {
  test(`exactly one takes the lease, every time (${TRIALS} trials, fresh and expired leases)`, async () => {
    const results: Awaited<ReturnType<typeof trial>>[] = []
    for (let first = 0; first < TRIALS; first += PARALLEL) {
      results.push(...(await Promise.all(Array.from({ length: Math.min(PARALLEL, TRIALS - first) }, (_, offset) => trial(first + offset)))))
    }
    const raceLost = results.flatMap((result) => result.outcomes).filter((outcome) => outcome.code === 'LEASE_RACE_LOST').length
    for (const { outcomes, dir, expectedEpoch } of results) {
      const winners = outcomes.filter((outcome) => outcome.won)
      expect(winners.length).toBe(1)
      expect(winners[0]?.epoch).toBe(expectedEpoch)
      // The lease on disk names the winner: the loser's attempt left nothing behind.
      expect(readCurrentLease(dir)).toMatchObject({ holderId: winners[0]?.holderId, epoch: expectedEpoch })
    }
    expect(results).toHaveLength(TRIALS)
    // Not asserted (timing-dependent), but it shows the processes really raced for the same epoch.
    console.error(`lease race: ${TRIALS} trials, ${raceLost} lost at the link (same epoch), the rest saw the lease already held`)
  }, 60_000)
})
