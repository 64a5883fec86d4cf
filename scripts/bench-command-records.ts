/**
 * What kernel.command records (HA shadow mode, src/runtime/ha/command-record.ts) cost a leader and a standby, with
 * the baseline (no command records) measured in the same run on the same disk, in alternating rounds:
 *   - log bytes per order (place → send → place_result, the commands of an order's normal path);
 *   - durable places/s through the engine (the intake ACK path) with `--concurrency` places in flight (group commit);
 *   - CPU per command to encode the record (leader) and to decode + decide + compare it (standby, applyReplicated
 *     with the shadow decider against applyReplicated alone).
 * The machine is shared and noisy: figures are medians of the rounds; compare the ratios. Progress goes to stderr; the
 * last line of stdout is one JSON object.
 *
 * Usage: bun scripts/bench-command-records.ts [--orders 3000] [--rounds 3] [--concurrency 64] [--durability fsync]
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Principal } from '../src/domain/accounts.ts'
import { Engine } from '../src/runtime/engine.ts'
import { paperFundings, paperKernelConfig, type PaperAccount } from '../src/runtime/paper.ts'
import { ShadowDecider, encodeCommandRecord } from '../src/runtime/ha/index.ts'
import type { KernelCommand } from '../src/kernel/index.ts'
import { FRAME_HEADER_BYTES, Wal, copyFrame, type Durability, type Frame } from '../wal/index.ts'

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    durability: { type: 'string', default: 'fsync' },
  },
})
const ORDERS = Number(values.orders)
const ROUNDS = Number(values.rounds)
const CONCURRENCY = Number(values.concurrency)
const DURABILITY = values.durability as Durability
const T0 = 1_767_225_600_000
const ACCOUNT_COUNT = Math.max(1, Math.ceil(ORDERS / 900))

const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'egress-bench-commands-'))
const log = (message: string): void => void process.stderr.write(`${message}\n`)

const accounts: PaperAccount[] = Array.from({ length: ACCOUNT_COUNT }, (_, index) => ({ accountId: `acct-${index}`, balances: { USD: '100000000', BTC: '1000' } }))
const principals: Principal[] = accounts.map((account, index) => ({ id: `trader-${index}`, roles: ['trader'], accounts: [account.accountId], liveAllowed: false }))
const config = paperKernelConfig({ accounts, digest: 'bench', params: { lane1DepthMax: ORDERS * 2, lane2DepthMax: ORDERS * 2, accountQueuedMax: ORDERS * 2 } })

function placeCommand(index: number, nowMs: number): KernelCommand {
  const account = index % ACCOUNT_COUNT
  return {
    kind: 'place',
    nowMs,
    principal: principals[account] as Principal,
    idempotencyKey: null,
    body: { account: `acct-${account}`, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '60000', client_order_id: `bench-${index}` },
    market: { referencePrice: 6_000_000_000_000n, observedAtMs: nowMs, previousPrice: null },
    live: { credentialPresent: false, environmentLive: false, haLeader: true },
    configDigest: 'bench',
    buildCommit: 'bench',
  }
}

const FACTS = { haLeader: true, liveExplicit: false, durabilityMode: DURABILITY, schemaCompatible: true, auditVerified: true } as const

/** Intake: one place command, durable (the ACK boundary). Returns the order id. */
async function place(engine: Engine, index: number, commands: KernelCommand[]): Promise<string> {
  const command = placeCommand(index, T0 + index)
  const placed = await engine.submit(command)
  const reply = placed.decision.reply
  if (reply.kind !== 'accepted') throw new Error(`order ${index} not accepted: ${JSON.stringify(reply)}`)
  commands.push(command)
  return reply.orderId
}

/** The rest of an order's normal path, in lane order: send (gate), place_result ok. */
async function sendAndAck(engine: Engine, orderId: string, index: number, commands: KernelCommand[]): Promise<void> {
  const nowMs = T0 + ORDERS + index
  const send: KernelCommand = { kind: 'send', nowMs, orderId, action: 'place', facts: FACTS }
  if ((await engine.submit(send)).lsns.length === 0) throw new Error(`send of ${orderId} wrote nothing`)
  const result: KernelCommand = { kind: 'place_result', nowMs: nowMs + 1, orderId, outcome: { kind: 'ok', value: { venueOrderId: `v-${index}` } } }
  if ((await engine.submit(result)).lsns.length === 0) throw new Error(`place_result of ${orderId} wrote nothing`)
  commands.push(send, result)
}

interface Round {
  ordersPerSec: number
  bytesPerOrder: number
  frames: Frame[]
  commands: KernelCommand[]
}

async function runRound(round: number, withRecords: boolean): Promise<Round> {
  const wal = Wal.open(join(root, `log-${round}-${withRecords ? 'on' : 'off'}`), { durability: DURABILITY })
  const engine = Engine.replay(wal)
  engine.commandRecords = withRecords
  await engine.submit({ kind: 'configure', nowMs: T0, config })
  for (const funding of paperFundings(accounts)) {
    await engine.submit({ kind: 'fund', nowMs: T0, principalId: 'bench', accountId: funding.accountId, asset: funding.asset, amount: funding.amount, reference: `bench:${funding.accountId}:${funding.asset}` })
  }
  const setupLsn = wal.lastLsn
  const commands: KernelCommand[] = []
  const orderIds: string[] = []
  let next = 0
  // Timed: intake with `CONCURRENCY` places in flight (group commit), each awaited durable.
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < ORDERS) {
      const index = next++
      orderIds[index] = await place(engine, index, commands)
    }
  }))
  const elapsedSec = (performance.now() - started) / 1000
  // Untimed: send and venue ack for every order, in lane order, so the log holds each order's normal path.
  for (let index = 0; index < ORDERS; index++) await sendAndAck(engine, orderIds[index] as string, index, commands)
  const frames = Array.from(wal.read(1), (frame) => copyFrame(frame) as Frame)
  const orderBytes = frames.filter((frame) => frame.lsn > setupLsn).reduce((sum, frame) => sum + FRAME_HEADER_BYTES + frame.payload.byteLength, 0)
  await wal.close()
  return { ordersPerSec: ORDERS / elapsedSec, bytesPerOrder: orderBytes / ORDERS, frames, commands }
}

/** µs per command to encode its record (the leader's extra CPU, outside the log). */
function encodeMicros(commands: KernelCommand[]): number {
  const started = performance.now()
  for (const command of commands) encodeCommandRecord(command, 2)
  return ((performance.now() - started) * 1000) / commands.length
}

/** ms to apply a log's frames on a standby engine, with or without the shadow decider. */
async function standbyApplyMs(frames: Frame[], round: number, shadow: boolean): Promise<{ ms: number; decisions: number; mismatches: number }> {
  const replica = Wal.openReplica(join(root, `replica-${round}-${shadow ? 'shadow' : 'plain'}`), { durability: 'none' })
  const engine = Engine.replay(replica)
  const decider = shadow ? new ShadowDecider() : null
  engine.shadow = decider
  const started = performance.now()
  for (let offset = 0; offset < frames.length; offset += 64) engine.applyReplicated(frames.slice(offset, offset + 64))
  const ms = performance.now() - started
  await replica.close()
  return { ms, decisions: decider?.stats.decisions ?? 0, mismatches: decider?.stats.mismatches ?? 0 }
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

const results = { off: [] as Round[], on: [] as Round[] }
const encodeUs: number[] = []
const applyPlainMs: number[] = []
const applyShadowMs: number[] = []
let shadowMismatches = 0
let shadowDecisions = 0
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false]
    for (const withRecords of order) {
      const result = await runRound(round, withRecords)
      ;(withRecords ? results.on : results.off).push(result)
      log(`round ${round} records ${withRecords ? 'on ' : 'off'}: ${result.ordersPerSec.toFixed(0)} places/s, ${result.bytesPerOrder.toFixed(0)} log bytes/order`)
    }
    const on = results.on.at(-1) as Round
    encodeUs.push(encodeMicros(on.commands))
    const plain = await standbyApplyMs(on.frames, round, false)
    const shadowed = await standbyApplyMs(on.frames, round, true)
    applyPlainMs.push(plain.ms)
    applyShadowMs.push(shadowed.ms)
    shadowMismatches += shadowed.mismatches
    shadowDecisions += shadowed.decisions
    log(`round ${round}: encode ${encodeUs.at(-1)?.toFixed(2)} µs/command; standby apply ${plain.ms.toFixed(0)} ms plain, ${shadowed.ms.toFixed(0)} ms with shadow (${shadowed.decisions} decisions, ${shadowed.mismatches} mismatches)`)
  }
} finally {
  rmSync(root, { recursive: true, force: true })
}

const commandsPerRound = ORDERS * 3
const offOrdersPerSec = median(results.off.map((round) => round.ordersPerSec))
const onOrdersPerSec = median(results.on.map((round) => round.ordersPerSec))
const offBytes = median(results.off.map((round) => round.bytesPerOrder))
const onBytes = median(results.on.map((round) => round.bytesPerOrder))
const plainMs = median(applyPlainMs)
const shadowMs = median(applyShadowMs)
console.log(JSON.stringify({
  bench: 'command-records',
  durability: DURABILITY,
  orders: ORDERS,
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
  baselinePlacesPerSec: Math.round(offOrdersPerSec),
  withRecordsPlacesPerSec: Math.round(onOrdersPerSec),
  throughputRatio: Number((onOrdersPerSec / offOrdersPerSec).toFixed(3)),
  baselineLogBytesPerOrder: Math.round(offBytes),
  withRecordsLogBytesPerOrder: Math.round(onBytes),
  logBytesRatio: Number((onBytes / offBytes).toFixed(3)),
  encodeMicrosPerCommand: Number(median(encodeUs).toFixed(2)),
  standbyApplyMicrosPerCommandPlain: Number(((plainMs * 1000) / commandsPerRound).toFixed(2)),
  standbyApplyMicrosPerCommandShadow: Number(((shadowMs * 1000) / commandsPerRound).toFixed(2)),
  shadowDecisions,
  shadowMismatches,
}))
