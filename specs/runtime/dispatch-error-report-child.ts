/**
 * The child of dispatch-error-report.test.ts: a process of its own, because what it watches ends in an unhandled
 * rejection (onError's own throw escapes the send's dispatch, as it escaped the old .catch().finally() chain), which
 * `bun test` counts as a failure whatever listener is installed. Prints one JSON line: what it saw.
 */

import { rmSync } from 'node:fs'
import type { KernelCommand } from '../../src/kernel/index.ts'
import type { ExecutorOptions } from '../../src/runtime/executor.ts'
import { startWorld, traderA } from './harness.ts'

const escaped: string[] = []
process.on('unhandledRejection', (reason: unknown) => void escaped.push(String(reason)))

const world = await startWorld({ seed: 83, venueOptions: { latencyMsMin: 20, latencyMsMax: 20 } })
const engine = world.gateway.engine
const executor = world.gateway.executor
// The venue's answer to the place is refused by the log (as a log that died under it would): the dispatch reports it.
const submit = engine.submit.bind(engine)
engine.submit = (command: KernelCommand) => (command.kind === 'place_result' ? Promise.reject(new Error('log refused the answer')) : submit(command))
// The report itself throws (a logger that failed).
const options = (executor as unknown as { options: ExecutorOptions }).options
const onError = options.onError
const reported: string[] = []
options.onError = (error, context) => {
  if (!context.startsWith('send of ')) return onError(error, context)
  reported.push(context)
  throw new Error(`report failed: ${String(error)}`)
}
const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'report-1' }
const placed = await world.gateway.place(traderA, body, null)
for (let step = 0; step < 200 && reported.length === 0; step++) await world.clock.advanceAsync(5)
for (let turn = 0; turn < 20; turn++) await Promise.resolve()
await new Promise((resolve) => setTimeout(resolve, 0))
const seen = { accepted: placed.reply.kind === 'accepted', reported: reported.length, callsInFlight: executor.stats.callsInFlight, escaped }
engine.submit = submit
options.onError = onError
await world.gateway.stop().catch(() => undefined)
rmSync(world.dir, { recursive: true, force: true })
process.stdout.write(`${JSON.stringify(seen)}\n`)
process.exit(0)
