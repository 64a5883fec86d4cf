/**
 * The deterministic simulation, from the command line (DESIGN §9).
 *
 *   bun scripts/sim.ts --seeds 10000 --from 1        long run; progress on stderr, final JSON line on stdout
 *   bun scripts/sim.ts --seed 42 --verbose           replay one seed, printing every step
 *
 * Options: --steps K (workload steps per seed, default 100), --step-ms M (max simulated ms per step, default 200),
 * --strict (known, reported bugs fail too; also SIM_STRICT=1), --without-amend (the workload before amends joined it,
 * to replay a seed found then), --without-lists (the workload before OCO lists joined it, amends in), --without-ttl (the workload before orders
 * with a time-to-live joined it, lists and amends in), --backoffice (check the back office too: specs/simulation/backoffice-checks.ts; about ten
 * times slower; the world also trades RND-USD, whose fills' cash rounds), --backoffice-snapshots (the same, with periodic snapshots carrying its section). Exit status 1 when
 * any seed fails.
 */

import { describeFailure, runBatch } from '../specs/simulation/batch.ts'
import type { BackOfficeMode } from '../specs/simulation/backoffice-checks.ts'
import { SIM_DEFAULTS } from '../specs/simulation/defaults.ts'

interface Args {
  from: number
  seeds: number
  steps: number
  stepMsMax: number
  verbose: boolean
  strict: boolean
  withoutAmend: boolean
  withoutLists: boolean
  withoutTtl: boolean
  backOffice: BackOfficeMode
}

function parseArgs(argv: string[]): Args {
  const args: Args = { from: 1, seeds: 1, steps: SIM_DEFAULTS.steps, stepMsMax: SIM_DEFAULTS.stepMsMax, verbose: false, strict: process.env.SIM_STRICT === '1', withoutAmend: false, withoutLists: false, withoutTtl: false, backOffice: 'off' }
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index]
    const value = (): number => {
      const text = argv[++index]
      const number = Number(text)
      if (text === undefined || !Number.isSafeInteger(number) || number < 0) throw new RangeError(`${flag} needs a non-negative integer, got ${text}`)
      return number
    }
    if (flag === '--seed') {
      args.from = value()
      args.seeds = 1
    } else if (flag === '--from') args.from = value()
    else if (flag === '--seeds') args.seeds = value()
    else if (flag === '--steps') args.steps = value()
    else if (flag === '--step-ms') args.stepMsMax = value()
    else if (flag === '--verbose') args.verbose = true
    else if (flag === '--strict') args.strict = true
    else if (flag === '--without-amend') args.withoutAmend = true
    else if (flag === '--without-lists') args.withoutLists = true
    else if (flag === '--without-ttl') args.withoutTtl = true
    else if (flag === '--backoffice') args.backOffice = 'on'
    else if (flag === '--backoffice-snapshots') args.backOffice = 'snapshots'
    else throw new RangeError(`unknown option ${flag}; see the header of scripts/sim.ts`)
  }
  return args
}

const args = parseArgs(process.argv.slice(2))
let lastProgressMs = performance.now()
const report = await runBatch({
  from: args.from,
  count: args.seeds,
  steps: args.steps,
  stepMsMax: args.stepMsMax,
  strict: args.strict,
  withoutAmend: args.withoutAmend,
  withoutLists: args.withoutLists,
  withoutTtl: args.withoutTtl,
  backOffice: args.backOffice,
  ...(args.verbose ? { trace: (line: string) => console.error(line) } : {}),
  onSeed: (result, index) => {
    if (result.failure !== null) console.error(describeFailure(result.failure))
    for (const finding of args.verbose ? result.known : []) console.error(`known issue ${finding.issue} at step ${finding.step}: ${finding.message}`)
    const nowMs = performance.now()
    if (nowMs - lastProgressMs > 2_000 || index + 1 === args.seeds) {
      lastProgressMs = nowMs
      console.error(`sim: ${index + 1}/${args.seeds} seeds (last ${result.seed}), ${result.failure === null ? 'ok' : 'FAILED'}`)
    }
  },
})
console.log(JSON.stringify(report))
process.exitCode = report.result === 'pass' ? 0 : 1
