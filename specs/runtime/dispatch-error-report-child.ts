/**
 * The child of dispatch-error-report.test.ts: a process of its own, because what it watches ends in an unhandled
 * rejection (onError's own throw escapes the send's dispatch, as it escaped the old .catch().finally() chain), which
 * `bun test` counts as a failure whatever listener is installed. Prints one JSON line: what it saw.
 */

import type { KernelCommand } from '../../src/kernel/index.ts'
import { startWorld, traderA } from './harness.ts'
import { endChild, escapedErrors, settled, throwingSendReports } from './throwing-send-reports.ts'

const escaped = escapedErrors()
const world = await startWorld({ seed: 83, venueOptions: { latencyMsMin: 20, latencyMsMax: 20 } })
const engine = world.gateway.engine
const executor = world.gateway.executor
// The venue's answer to the place is refused by the log (as a log that died under it would): the dispatch reports it.
const submitIfRoom = engine.submitIfRoom.bind(engine)
engine.submitIfRoom = (command: KernelCommand) => (command.kind === 'place_result' ? Promise.reject(new Error('log refused the answer')) : submitIfRoom(command))
const reports = throwingSendReports(executor)
const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'report-1' }
const placed = await world.gateway.place(traderA, body, null)
for (let step = 0; step < 200 && reports.reported.length === 0; step++) await world.clock.advanceAsync(5)
await settled()
const seen = { accepted: placed.reply.kind === 'accepted', reported: reports.reported.length, callsInFlight: executor.stats.callsInFlight, escaped }
engine.submitIfRoom = submitIfRoom
reports.restore()
await endChild(world, seen)
