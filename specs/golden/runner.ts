/**
 * Runs one golden trace: starts a world (sim venue, log on disk, gateway) as the trace configures it, plays its steps
 * through the Gateway and the sim venue's controls, checks the invariants after every step and the expected outcome
 * where the trace states one, and finally proves that replaying the log from scratch gives the live state.
 * Returns every difference found (empty = the trace holds).
 */

import { join } from 'node:path'
import type { Principal } from '../../src/domain/accounts.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { KernelParams } from '../../src/domain/kernel-config.ts'
import { orderIdFor, stateDigest, type Reply } from '../../src/kernel/index.ts'
import { domainEventOf, Engine } from '../../src/runtime/index.ts'
import type { SimFaults, SimVenueOptions } from '../../src/venues/sim/index.ts'
import { Wal } from '../../wal/index.ts'
import { crashWorld, opsUser, removeDir, run, startWorld, traderA, traderB, type World, type WorldOptions } from '../runtime/harness.ts'
import { configureFor } from './config.ts'
import { invariantViolations } from './invariants.ts'
import { outcomeDiffs } from './outcome.ts'
import type { CommandStep, ReplyExpect, Step, Trace } from './trace.ts'

const BUILTIN_PRINCIPALS: Record<string, Principal> = { alice: traderA, bob: traderB, olga: opsUser }

interface Context {
  trace: Trace
  options: WorldOptions
  world: World
  /** False between a crash and the restart: nothing may be checked or driven then. */
  alive: boolean
  refs: Map<string, string>
  failures: string[]
}

export async function runTrace(trace: Trace): Promise<string[]> {
  const configure = configureFor(trace.config)
  const options: WorldOptions = {
    seed: trace.seed,
    faults: (trace.faults ?? {}) as Partial<SimFaults>,
    venueOptions: (trace.venue ?? {}) as Partial<SimVenueOptions>,
    params: (trace.params ?? {}) as Partial<KernelParams>,
    ...(configure === undefined ? {} : { configure }),
  }
  const ctx: Context = { trace, options, world: await startWorld(options), alive: true, refs: new Map(), failures: [] }
  try {
    for (const [index, step] of trace.steps.entries()) {
      const label = `step ${index + 1} (${step.do})`
      await runStep(ctx, step, label)
      if (step.do !== 'crash') await checkInvariants(ctx, label)
    }
    await ctx.world.gateway.engine.settled()
    ctx.failures.push(...outcomeDiffs('final', trace.expect, observe(ctx)))
    const unknownLeft = [...ctx.world.gateway.engine.state.orders.values()].filter((order) => order.status === 'Unknown').length
    if (unknownLeft !== (trace.expect.unknownLeft ?? 0)) ctx.failures.push(`final: ${unknownLeft} orders are still Unknown`)
    ctx.failures.push(...(await replayDiffs(ctx.world)))
  } finally {
    await ctx.world.gateway.stop().catch(() => undefined)
    removeDir(ctx.world.dir)
  }
  return ctx.failures
}

async function runStep(ctx: Context, step: Step, label: string): Promise<void> {
  const { world } = ctx
  switch (step.do) {
    case 'place':
    case 'cancel':
    case 'amend':
    case 'killSwitch':
    case 'setMode':
    case 'flatten':
      return issue(ctx, step, label, false)
    case 'together':
      // Every command is decided before any of them is durable, so the executor cannot act in between.
      await Promise.all(step.steps.map((command, index) => issue(ctx, command, `${label}.${index + 1} (${command.do})`, true)))
      return
    case 'bindClose':
      return bindClose(ctx, step, label)
    case 'faults':
      world.venue.setFaults(step.faults as Partial<SimFaults>)
      return
    case 'price':
      world.venue.setReferencePrice(step.symbol, parseDecimal(step.price))
      return
    case 'run':
      // While crashed only the venue lives on: time passes, nobody listens.
      if (!ctx.alive) return void (await world.clock.advanceAsync(step.ms))
      return run(world, step.ms)
    case 'crash':
      await crashWorld(world)
      ctx.alive = false
      return
    case 'restart':
      return restart(ctx, step, label)
    case 'check':
      ctx.failures.push(...outcomeDiffs(label, step, observe(ctx)))
      return
  }
}

/** Submits one command synchronously (the kernel decides it before this returns) and checks its reply once durable. */
function issue(ctx: Context, step: CommandStep, label: string, bindEarly: boolean): Promise<void> {
  const { gateway } = ctx.world
  const who = principal(ctx, step.as)
  let result: Promise<{ reply: Reply }>
  switch (step.do) {
    case 'place': {
      const body = step.body as { account?: unknown; client_order_id?: unknown }
      const key = step.key ?? (typeof body.client_order_id === 'string' ? body.client_order_id : null)
      // The order id is a function of account, key and the decision's time (the world's clock holds still meanwhile),
      // so a later command of the same instant can name it (a body that fails syntax gets another id, which the reply names).
      if (bindEarly && step.ref !== undefined && typeof body.account === 'string' && key !== null) ctx.refs.set(step.ref, orderIdFor(gateway.engine.state, body.account, key, gateway.clock.nowMs()))
      const ref = step.ref
      result = gateway.place(who, step.body, step.key ?? null).then((answer) => {
        if (ref !== undefined && !ctx.refs.has(ref) && 'orderId' in answer.reply) ctx.refs.set(ref, answer.reply.orderId)
        return answer
      })
      break
    }
    case 'cancel':
      result = gateway.cancel(who, ctx.refs.get(step.order) ?? step.order)
      break
    case 'amend':
      result = amend(ctx, step, who)
      break
    case 'killSwitch':
      result = gateway.killSwitch(who, step.action, `golden: ${step.action}`)
      break
    case 'setMode':
      result = gateway.setMode(who, step.mode, 'golden')
      break
    case 'flatten':
      result = gateway.flatten(who, step.account, step.flattenId)
      break
  }
  return result.then(({ reply }) => checkReply(ctx, label, reply, step.expect))
}

/** The amend change as Gateway.amend takes it: `{ qty, price }` in units, null where unchanged. */
function amend(ctx: Context, step: Extract<CommandStep, { do: 'amend' }>, who: Principal): Promise<{ reply: Reply }> {
  const body = step.body as { qty?: string; price?: string }
  const change = { qty: body.qty === undefined ? null : parseDecimal(body.qty), price: body.price === undefined ? null : parseDecimal(body.price) }
  return ctx.world.gateway.amend(who, ctx.refs.get(step.order) ?? step.order, change)
}

async function restart(ctx: Context, step: Extract<Step, { do: 'restart' }>, label: string): Promise<void> {
  const { dir, clock, venue } = ctx.world
  if (ctx.alive) await crashWorld(ctx.world)
  ctx.world = await startWorld({ ...ctx.options, dir, clock, venue })
  ctx.alive = true
  const report = ctx.world.gateway.bootstrapReport
  const expected = step.expectBootstrap
  if (expected === undefined || report === null) return
  const resent = report.resent.map((orderId) => [...ctx.refs].find(([, id]) => id === orderId)?.[0] ?? orderId)
  const actual = { ...report, resent }
  for (const field of ['inFlightMarkedUnknown', 'openOrdersReconciled', 'unknownAfterWait', 'resent'] as const) {
    if (expected[field] !== undefined && JSON.stringify(actual[field]) !== JSON.stringify(expected[field])) {
      ctx.failures.push(`${label}: bootstrap ${field} is ${JSON.stringify(actual[field])}, expected ${JSON.stringify(expected[field])}`)
    }
  }
}

function bindClose(ctx: Context, step: Extract<Step, { do: 'bindClose' }>, label: string): void {
  const close = [...ctx.world.gateway.engine.state.orders.values()].find((order) => order.flattenId === step.flattenId && order.symbol === step.symbol)
  if (close === undefined) ctx.failures.push(`${label}: flatten ${step.flattenId} made no close order on ${step.symbol}`)
  else ctx.refs.set(step.ref, close.orderId)
}

function checkReply(ctx: Context, label: string, reply: Reply, expected: ReplyExpect | undefined): void {
  if (expected === undefined) return
  const actual: Record<string, unknown> = { reply: reply.kind }
  if (reply.kind === 'rejected') Object.assign(actual, { reason: reply.reason, guard: reply.guard })
  if (reply.kind === 'refused') actual.reason = reply.reason
  if (reply.kind === 'amend_accepted' && 'duplicate' in expected) actual.duplicate = reply.duplicate
  if ((reply.kind === 'accepted' || reply.kind === 'rejected') && 'duplicate' in expected) actual.duplicate = reply.duplicate
  if (expected.reply === 'rejected' && expected.guards !== undefined && reply.kind === 'rejected') {
    const rejection = logEvents(ctx.world).findLast((event) => (event.type === 'order.rejected' || event.type === 'order.amend_rejected') && event.orderId === reply.orderId)
    const decision = rejection?.type === 'order.rejected' || rejection?.type === 'order.amend_rejected' ? rejection.decision : null
    actual.guards = decision === null ? null : decision.guards.map((guard) => `${guard.guard}:${guard.outcome}`)
  }
  if (JSON.stringify(sorted(actual)) !== JSON.stringify(sorted(expected))) {
    ctx.failures.push(`${label}: reply is ${JSON.stringify(reply)}, expected ${JSON.stringify(expected)}`)
  }
}

async function checkInvariants(ctx: Context, label: string): Promise<void> {
  if (!ctx.alive) return
  await ctx.world.gateway.engine.settled()
  for (const problem of invariantViolations(ctx.world.gateway.engine.state, ctx.world.venue.inspect())) ctx.failures.push(`${label}: ${problem}`)
  for (const error of ctx.world.errors.splice(0)) ctx.failures.push(`${label}: runtime error ${error}`)
}

function observe(ctx: Context): Parameters<typeof outcomeDiffs>[2] {
  if (!ctx.alive) throw new Error('a trace cannot check a crashed world; restart it first')
  return { state: ctx.world.gateway.engine.state, venue: ctx.world.venue.inspect(), log: logEvents(ctx.world), refs: ctx.refs }
}

function logEvents(world: World): DomainEvent[] {
  const events: DomainEvent[] = []
  const { wal } = world.gateway.engine
  for (const frame of wal.read(wal.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

/** The log replayed from scratch must rebuild exactly the state the live gateway holds. */
async function replayDiffs(world: World): Promise<string[]> {
  const live = stateDigest(world.gateway.engine.state)
  await world.gateway.stop()
  const replayed = Engine.replay(Wal.open(join(world.dir, 'log'), { durability: 'none' }))
  const digest = stateDigest(replayed.state)
  await replayed.wal.close()
  return digest === live ? [] : [`final: replaying the log gives state digest ${digest}, the live state is ${live}`]
}

function principal(ctx: Context, name: string): Principal {
  const found = ctx.trace.principals?.[name] ?? BUILTIN_PRINCIPALS[name]
  if (found === undefined) throw new Error(`unknown principal ${name}`)
  return found
}

function sorted(record: object): object {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)))
}
