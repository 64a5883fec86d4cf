/**
 * Commands whose machinery is being built elsewhere (log engine, runtime, audit). Each has its help text already, so
 * `egress --help` shows the whole surface; running one says so and exits 2. Replace an entry in index.ts's command
 * list with the real command when it lands.
 */

import { EXIT_USAGE, type Command } from './command.ts'

function pending(name: string, summary: string, help: string): Command {
  return {
    name,
    summary,
    help,
    run: async (_argv, io) => {
      io.err(`egress ${name}: not built yet`)
      return EXIT_USAGE
    },
  }
}

export const replayVerifyCommand = pending('replay-verify', 'replay a log from scratch and compare projections', `Usage: egress replay-verify DIR

Replays the log in data directory DIR from the start and checks that the projections equal the stored snapshot.`)

export const snapshotCommand = pending('snapshot', 'write a snapshot of the projections', `Usage: egress snapshot [--config FILE]

Writes a snapshot (the query database plus kernel state at an LSN) into the data directory.`)

export const compactCommand = pending('compact', 'archive or delete log segments older than the oldest snapshot', `Usage: egress compact [--config FILE]

Removes or archives log segments wholly older than the oldest retained snapshot, per retention.`)

export const simVenueCommand = pending('sim-venue', 'run the simulated venue as a standalone process', `Usage: egress sim-venue [--port N]

Runs the simulated venue (with fault injection) as its own process.`)
