/**
 * An event-loop lag probe to preload into a process under test (`bun --preload scripts/support/event-loop-lag.ts …`,
 * or BENCH_SERVE_PRELOAD for bench:http): a 1 ms interval whose lateness beyond 2 ms counts as a stall. SIGUSR2
 * prints a time mark (bench:http sends it when the half-load phase starts); at exit the stalls over 15 ms are printed
 * to stderr as `seconds-since-start:ms`, so long synchronous stretches (fsync, replays, snapshots) can be placed.
 */

const STALL_MS = 2
const REPORT_MS = 15
const stalls: [number, number][] = []
const startMs = performance.now()
let lastMs = startMs
setInterval(() => {
  const nowMs = performance.now()
  const lateMs = nowMs - lastMs - 1
  if (lateMs > STALL_MS) stalls.push([nowMs - startMs, lateMs])
  lastMs = nowMs
}, 1).unref()

const seconds = (ms: number): string => (ms / 1000).toFixed(2)
process.on('SIGUSR2', () => process.stderr.write(`event-loop-lag: mark at ${seconds(performance.now() - startMs)} s\n`))
process.on('exit', () => {
  const total = stalls.reduce((sum, [, lateMs]) => sum + lateMs, 0)
  const long = stalls.filter(([, lateMs]) => lateMs > REPORT_MS)
  process.stderr.write(
    `event-loop-lag: ${seconds(performance.now() - startMs)} s, ${stalls.length} stalls > ${STALL_MS} ms (${total.toFixed(0)} ms in all); ` +
      `> ${REPORT_MS} ms at s:ms ${long.map(([atMs, lateMs]) => `${seconds(atMs)}:${lateMs.toFixed(0)}`).join(' ')}\n`,
  )
})
