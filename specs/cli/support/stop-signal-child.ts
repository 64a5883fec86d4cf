// A process that waits for a stop signal as serve does, then takes 1.5 s to "stop" and exits 0: a second signal that
// is let through ends it sooner, by its default action. Prints "ready" once its handlers are in.
import { waitForStopSignal } from '../../../src/cli/stop-signals.ts'

const waiting = waitForStopSignal(['SIGTERM', 'SIGINT', 'SIGHUP'])
console.log('ready')
console.log(`got ${await waiting}`)
await Bun.sleep(1_500)
console.log('stopped')
