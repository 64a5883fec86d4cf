/**
 * The evidence bundle (§12): specs record what they checked in `artifacts/assurance/<id>.json` — the invariant or
 * scenario, how many cases, seeds and steps, the result and the commit (and its source: `commitSource`) — so a release shows, rather than claims, what
 * it meets. `scripts/evidence.ts` summarises the bundle and fails when a required entry is missing or failed.
 *
 * Use `withEvidence` around a check: it records `pass` when the body returns and `fail` (then rethrows) when it
 * throws, so a failing spec can never leave a stale `pass` behind.
 */

import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { checkoutEvidenceCommit, type EvidenceCommit } from '../../scripts/evidence-commit.ts'

export const EVIDENCE_DIR = resolve(import.meta.dir, '../../artifacts/assurance')
export const EVIDENCE_FORMAT = 'egress.evidence/v1'

export type EvidenceKind = 'invariant' | 'golden' | 'simulation' | 'fault' | 'property' | 'benchmark'

export type EvidenceSeeds = number[] | { from: number; to: number }

export interface EvidenceEntry {
  /** File name stem, unique across the suite: `<area>.<what>`, e.g. `snapshot.crash-during-write`. */
  id: string
  kind: EvidenceKind
  /** The property checked, in one sentence. */
  invariant: string
  /** Spec file (relative to the repository) that produced it. */
  spec: string
  cases: number
  seeds?: EvidenceSeeds
  steps?: number
  result: 'pass' | 'fail'
  /** Anything else worth showing: figures, the failure message. */
  details?: Record<string, unknown>
}

export interface EvidenceCounts {
  cases: number
  seeds?: EvidenceSeeds
  steps?: number
  details?: Record<string, unknown>
}

let commitCache: EvidenceCommit | null = null

/**
 * The commit under test and where it came from: the checkout's git (scripts/evidence-commit.ts), EGRESS_BUILD_COMMIT
 * or GITHUB_SHA only where there is no git; `dev` when nothing tells. A variable that disagrees with git is ignored,
 * and said once on stderr.
 */
export function currentCommit(): EvidenceCommit {
  if (commitCache !== null) return commitCache
  commitCache = checkoutEvidenceCommit(resolve(import.meta.dir, '../..'))
  if (commitCache.warning !== null) console.error(`evidence: ${commitCache.warning}`)
  return commitCache
}

/** Writes one entry (atomically: temp file then rename, so the summariser never reads half a file). */
export function recordEvidence(entry: EvidenceEntry): void {
  mkdirSync(EVIDENCE_DIR, { recursive: true })
  const commit = currentCommit()
  const body = { format: EVIDENCE_FORMAT, ...entry, commit: commit.recorded, commitSource: commit.source, recordedAt: new Date().toISOString() }
  const path = join(EVIDENCE_DIR, `${entry.id}.json`)
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, `${JSON.stringify(body, null, 2)}\n`)
  renameSync(temp, path)
}

/**
 * Runs `check`, which returns what it covered; records `pass` with those counts, or `fail` with the error's message
 * (and the counts `expected` up front) when it throws. The error is rethrown so the spec fails as usual.
 */
export async function withEvidence(
  meta: Omit<EvidenceEntry, 'result' | 'cases' | 'seeds' | 'steps' | 'details'> & { expected?: Partial<EvidenceCounts> },
  check: () => Promise<EvidenceCounts> | EvidenceCounts,
): Promise<void> {
  const { expected, ...entry } = meta
  try {
    const counts = await check()
    recordEvidence({ ...entry, ...counts, result: 'pass' })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    recordEvidence({ ...entry, ...(expected ?? {}), cases: expected?.cases ?? 0, result: 'fail', details: { ...(expected?.details ?? {}), error: message.slice(0, 2_000) } })
    throw error
  }
}
