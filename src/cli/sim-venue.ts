/**
 * `egress sim-venue`: the simulated venue as its own process, behind JSONL over TCP (src/venues/jsonl), so two
 * gateways (a leader and its standby) share one venue whose book survives either of them. Every place request is
 * recorded (fsynced) in `--record FILE` before it reaches the book; a failed write or fsync of it is fatal (exit 74).
 */

import { statSync, type Stats } from 'node:fs'
import { CONFIG_PATH_ENV, loadConfig, simStoreOptions } from '../config/index.ts'
import { simDepositsOf } from '../runtime/paper.ts'
import { simVenueInstruments } from './serve-sim.ts'
import { SimVenue } from '../venues/sim/index.ts'
import { serveJsonlVenue } from '../venues/jsonl/index.ts'
import { EXIT_IO_ERROR, EXIT_OK, integerOption, parseOptions, UsageError, type CliIo, type Command } from './command.ts'
import { StoppableClock } from './stoppable-clock.ts'
import { waitForStopSignal } from './stop-signals.ts'

export const simVenueCommand: Command = {
  name: 'sim-venue',
  summary: 'run the simulated venue as a standalone process (JSONL over TCP)',
  help: `Usage: egress sim-venue [--port N] [--host H] [--seed N] [--record FILE] [--config FILE]

Runs the simulated venue as its own process, one JSON object per line over TCP. Gateways reach it with
--venue jsonl://HOST:PORT. Every place request is appended to --record FILE (fsynced) before the book sees it; a
failed write or fsync of it is fatal: the requests in flight are answered unknown and it exits 74.
Prints "listening on HOST:PORT" on stdout once ready. SIGTERM, SIGINT or SIGHUP (its terminal closed) stops it;
a SIGHUP it was started ignoring (nohup) stays ignored.

Options:
  --port N       TCP port (default 9100; 0 picks a free one)
  --host H       address to bind (default 127.0.0.1)
  --seed N       seed of the price walk and fills (default 1)
  --record FILE  append-only record of place requests
  --config FILE  the gateways' config (or EGRESS_CONFIG; the environment's overrides are not read): its accounts' fundings are what each account holds at the venue, so
                 reduce-only orders (a flatten's closes) can sell them (default: the built-in demo accounts'),
                 its sim instruments (a venues entry of type "sim") are what the venue trades, and that
                 entry's ordersMax and endedOrderRetentionMs bound the orders it holds
  --help         show this help`,
  run: runSimVenue,
}

/** `--record FILE` that names a directory or something else that is no file (what open would refuse bare: EISDIR). */
function refuseRecordPath(path: string): void {
  let stats: Stats
  try {
    stats = statSync(path)
  } catch {
    return // A file still to be made: the open creates it (or says why not).
  }
  if (!stats.isFile()) throw new UsageError(`--record ${JSON.stringify(path)}: ${stats.isDirectory() ? 'a directory' : 'not a regular file'}; give the path of a file (made if missing)`)
}

/**
 * What stopped the start, naming the option: the record file's open failed as node's bare "ENOENT: no such file or
 * directory, open '…'", and a port taken or a host of another machine as Bun's "Failed to listen at 127.0.0.1",
 * naming neither the port nor --port.
 */
function startFailure(error: unknown, recordPath: string | undefined, address: string): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code
  if (recordPath !== undefined && (error as NodeJS.ErrnoException | null)?.path === recordPath) {
    return new Error(`--record ${JSON.stringify(recordPath)}: cannot open it to append (${code ?? String(error)})`)
  }
  const cause = code ?? (error instanceof Error ? error.message : String(error))
  return Object.assign(new Error(`LISTEN_FAILED: cannot listen on ${address} (${cause}): give a free --port (0 picks one) and a --host that is an address of this machine`), { code: 'LISTEN_FAILED' })
}

async function runSimVenue(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    seed: { type: 'string' },
    record: { type: 'string' },
    config: { type: 'string' },
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  if (values.record !== undefined) refuseRecordPath(values.record)
  const port = integerOption('port', values.port, 9100, [0, 65_535])
  const seed = integerOption('seed', values.seed, 1, [0, 0xffff_ffff])
  // The same stop signals as serve (stop-signals.ts): a SIGHUP (the terminal it was started from closed) killed the
  // process by its default action, exit 129, its connections not closed. Watched before "listening" is printed: a
  // signal sent on seeing that line found no handler yet and killed the process the same way.
  const stopSignal = waitForStopSignal()
  const clock = new StoppableClock()
  // The gateways' config file, named by --config or EGRESS_CONFIG as for every command; not the environment's
  // overrides, which are the gateways' own settings (PORT, EGRESS_DATA_DIR, …), not the venue's. Ignoring
  // EGRESS_CONFIG, a venue started in the gateways' shell traded the built-in instruments and fundings, quietly.
  const configPath = values.config ?? (io.env[CONFIG_PATH_ENV] || undefined)
  const config = loadConfig({ env: {}, ...(configPath === undefined ? {} : { configPath }) })
  // The gateways' sim instruments (their config's `venues` entry of type "sim", else the built-in ones), so the venue
  // trades what their kernels accept.
  const { instruments, simInstruments } = simVenueInstruments(config)
  // What each account holds besides its trades: the gateways' paper fundings (serve passes the same to its own sim),
  // without which the venue refuses every reduce-only sell of a funded asset (reduce-only.ts).
  const deposits = simDepositsOf(config.accounts.map((account) => ({ accountId: account.id, balances: account.balances })))
  const venue = new SimVenue({
    clock, seed, instruments: simInstruments, deposits, ...simStoreOptions(config.venues),
    onBookError: (message) => io.err(`${new Date().toISOString()} sim-venue: book error (skipped): ${message}`),
  })
  const hostname = values.host ?? '127.0.0.1'
  let server: ReturnType<typeof serveJsonlVenue>
  try {
    server = serveJsonlVenue(venue, {
      hostname,
      port,
      recordPath: values.record ?? null,
      symbols: instruments.map((instrument) => instrument.symbol),
      pricePushMs: 200,
      log: (line) => io.err(`${new Date().toISOString()} sim-venue: ${line}`),
    })
  } catch (error) {
    clock.cancelAll()
    throw startFailure(error, values.record, `${hostname}:${port}`)
  }
  io.out(`listening on ${hostname}:${server.port}`)
  // A failed write or fsync of the record is fatal, as the gateway's log's is (serve.ts): the server answered what was
  // in flight `unknown` and takes nothing more; the process exits non-zero.
  const stopping = await Promise.race([stopSignal, server.died])
  const recordFailed = stopping instanceof Error
  if (recordFailed) io.err(`${new Date().toISOString()} sim-venue: the record file failed: ${stopping.message}; exiting`)
  else io.err(`${new Date().toISOString()} sim-venue: ${stopping}: stopping`)
  server.stop()
  clock.cancelAll()
  return recordFailed ? EXIT_IO_ERROR : EXIT_OK
}
