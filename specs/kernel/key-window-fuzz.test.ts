/**
 * The key window under random traffic (key-window-driver.ts): for each seed, the live state equals a replay from
 * genesis, a replay through apply() (a clone per event), and a restore from a snapshot at every cut (a format 20
 * snapshot at cuts before the window's adoption, in the adoption runs); and no two orders or lists are accepted under
 * one id. A failing seed is named; replay one with KEY_WINDOW_SEED=<seed> (and KEY_WINDOW_MODE=plain|changes|adopt).
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { apply, applyInPlace, initialState, stateDigest, type KernelState } from '../../src/kernel/index.ts'
import { kernelSectionOf, KERNEL_STATE_SCHEMA_V20, kernelStateBytes, kernelStateFromBytes } from '../../src/runtime/snapshot/state-codec.ts'
import { beforeHoldRule, encodeAsFormat20 } from '../runtime/snapshot/support.ts'
import { KeyWindowDriver } from './key-window-driver.ts'

const STEPS = 500
const MODES = ['plain', 'changes', 'adopt'] as const
type Mode = (typeof MODES)[number]
const ONE_SEED = process.env.KEY_WINDOW_SEED === undefined ? null : Number(process.env.KEY_WINDOW_SEED)
// Seeds 1, 6, 7 and 8 of `changes` caught a review's finding (a raised window: live and restored states forgot apart).
const SEEDS = ONE_SEED === null ? [1, 2, 3, 4, 5, 6, 7, 8] : [ONE_SEED]

function replayed(log: readonly DomainEvent[], from: KernelState = initialState(), firstLsn = 1): KernelState {
  log.forEach((event, index) => applyInPlace(from, event, { lsn: firstLsn + index }))
  return from
}

/** What differs for one seed: empty when every path reaches the live state and no id is accepted twice. */
function problemsOf(seed: number, mode: Mode): string[] {
  const driver = new KeyWindowDriver(seed, mode === 'changes', mode === 'adopt')
  let adoptedAt = -1
  for (let step = 0; step < STEPS; step++) {
    if (mode === 'adopt' && step === Math.floor(STEPS / 3)) {
      driver.h.run({ kind: 'configure', nowMs: driver.h.nowMs, config: driver.cfg() })
      adoptedAt = driver.h.log.length
    }
    driver.step()
  }
  const log = driver.h.log
  const live = stateDigest(driver.h.state)
  const problems: string[] = []
  if (stateDigest(replayed(log)) !== live) problems.push('a replay from genesis differs')
  let cloned = initialState()
  log.forEach((event, index) => (cloned = apply(cloned, event, { lsn: index + 1 })))
  if (stateDigest(cloned) !== live) problems.push('a replay through apply() differs')
  for (let cut = 1; cut < log.length; cut++) {
    const prefix = replayed(log.slice(0, cut))
    let restored = kernelStateFromBytes(kernelStateBytes(prefix))
    if (cut < adoptedAt && cut % 2 === 0) {
      const older = encodeAsFormat20(beforeHoldRule(prefix))
      restored = kernelStateFromBytes(kernelSectionOf(JSON.stringify(older.json), older.idempotency), { schema: KERNEL_STATE_SCHEMA_V20 })
      // The hold rule this log adopted at its first configure, which a format 20 snapshot cannot hold (a log of that
      // build adopts it at the first configure after it): no synthetic fill here, so it changes nothing else.
      restored.holdRule = prefix.holdRule
      // Nor an amend's request time (format 24): read as its order's acceptance, the earliest it can have been
      // (state-codec-older.ts). Replay takes the record's; this spec compares what the keys decide, so it is given back.
      for (const [orderId, order] of restored.orders) {
        const held = prefix.orders.get(orderId)?.amend
        if (order.amend !== null && held !== undefined && held !== null) order.amend.requestedAtMs = held.requestedAtMs
      }
    }
    if (stateDigest(replayed(log.slice(cut), restored, cut + 1)) !== live) {
      problems.push(`a restore at cut ${cut} (${log[cut - 1]?.type}) differs`)
      break
    }
  }
  const seen = new Map<string, number>()
  for (const [at, event] of log.entries()) {
    const id = event.type === 'order.accepted' ? event.orderId : event.type === 'order_list.accepted' ? event.listId : null
    if (id === null) continue
    if (seen.has(id)) problems.push(`${id} accepted at events ${seen.get(id)} and ${at}`)
    seen.set(id, at)
  }
  return problems.map((problem) => `seed ${seed} (${mode}): ${problem}`)
}

describe('the key window under random traffic', () => {
  for (const mode of MODES) {
    if (process.env.KEY_WINDOW_MODE !== undefined && process.env.KEY_WINDOW_MODE !== mode) continue
    test(`${mode}: seeds ${SEEDS.join(', ')}, ${STEPS} steps each`, () => {
      expect(SEEDS.flatMap((seed) => problemsOf(seed, mode))).toEqual([])
    }, 60_000)
  }
})
