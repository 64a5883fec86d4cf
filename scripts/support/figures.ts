/**
 * Small readings and summaries the benchmark scripts share: the median of rounds, a percentile, a process's or thread's CPU time
 * from /proc, and the work still queued in the gateway's lanes as /metrics reports it.
 */

import { readdirSync, readFileSync } from 'node:fs'

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** The value at quantile `p` (0–1) of an ascending list, nearest rank below; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

const CLOCK_TICKS_PER_SEC = 100

/**
 * CPU time (user + system) used so far, in ms, by process `pid` or, with `tid`, by that one thread of it (a process's
 * main thread has tid = pid); NaN where /proc is not available.
 */
export function cpuMsOf(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SEC
  } catch {
    return Number.NaN
  }
}

/**
 * CPU time (user + system) used so far, in ms, by the threads of process `pid` whose name starts with `namePrefix`
 * (JavaScriptCore's compiler threads are `JITWorker`); NaN where /proc is not available. A thread that ended is no
 * longer counted, so read it over a phase the threads outlive.
 */
export function threadsCpuMsOf(pid: number, namePrefix: string): number {
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return Number.NaN
  }
  let totalMs = 0
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith(namePrefix)) totalMs += cpuMsOf(pid, Number(tid))
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return totalMs
}

/** Work queued in every lane, summed from a /metrics text (egress_lane_depth): 0 once the executor has caught up. */
export function laneDepthOf(metricsText: string): number {
  return [...metricsText.matchAll(/^egress_lane_depth\{lane="\d"\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
}

/** Waits until no lane of an in-process gateway's app has work queued (its /metrics): everything placed was sent and settled. */
export async function lanesDrained(app: { fetch: (request: Request) => Response | Promise<Response> }, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const text = await (await app.fetch(new Request('http://probe/metrics'))).text()
    if (laneDepthOf(text) === 0) return
    await Bun.sleep(5)
  }
  throw new Error(`lanes did not drain within ${timeoutMs} ms`)
}

/** The machine's CPU time so far, all CPUs, in clock ticks (/proc/stat): in all, and stolen by the hypervisor. */
export interface MachineTicks {
  total: number
  steal: number
}

/** The machine's CPU ticks so far; zeros where /proc is not available. */
export function machineTicks(): MachineTicks {
  try {
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string).trim().split(/\s+/).slice(1, 9).map(Number)
    return { total: fields.reduce((sum, ticks) => sum + ticks, 0), steal: fields[7] ?? 0 }
  } catch {
    return { total: 0, steal: 0 }
  }
}

/** The share of the machine's CPU time the hypervisor stole between two readings (NaN when nothing elapsed). */
export function stealShareOf(from: MachineTicks, to: MachineTicks): number {
  const total = to.total - from.total
  return total > 0 ? (to.steal - from.steal) / total : Number.NaN
}
