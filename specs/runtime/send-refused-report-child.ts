/**
 * The child of send-refused-report.test.ts: a process of its own, because what it watches ends in an uncaught error
 * (onError's own throw escapes the refused send's dispatch), which `bun test` counts as a failure whatever listener
 * is installed. Prints one JSON line: what it saw.
 */

import type { KernelCommand } from '../../src/kernel/index.ts'
import type { CommandSink } from '../../src/runtime/engine-types.ts'
import { startWorld, traderA } from './harness.ts'
import { endChild, escapedErrors, settled, throwingSendReports } from './throwing-send-reports.ts'

const escaped = escapedErrors()
const world = await startWorld({ seed: 84, venueOptions: { latencyMsMin: 20, latencyMsMax: 20 } })
const engine = world.gateway.engine
const executor = world.gateway.executor
// The log refuses the first send decision (its queue full, say): nothing decided, the dispatch told from a later turn.
const submitTo = engine.submitTo.bind(engine)
let refused = 0
engine.submitTo = (command: KernelCommand, sink: CommandSink) => {
  if (command.kind === 'send' && refused === 0) {
    refused++
    queueMicrotask(() => sink.reject(new Error('log refused the send'), command))
    return
  }
  submitTo(command, sink)
}
// The report of that refusal throws (a logger that failed).
const reports = throwingSendReports(executor)
const acked = new Set<string>()
engine.onDurable((events) => {
  for (const { event } of events) if (event.type === 'order.send_acked') acked.add(event.orderId)
})
// One place, alone on its venue×symbol: no later decision there would move the refused dispatch out of its queue.
const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'refused-1' }
const placed = await world.gateway.place(traderA, body, null)
const orderId = placed.reply.kind === 'accepted' ? placed.reply.orderId : ''
for (let step = 0; step < 400 && acked.size < 1; step++) await world.clock.advanceAsync(5)
await settled()
const seen = { refused, reported: reports.reported.length, acked: acked.has(orderId) ? 1 : 0, callsInFlight: executor.stats.callsInFlight, escaped }
engine.submitTo = submitTo
reports.restore()
await endChild(world, seen)
