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

export const simVenueCommand = pending('sim-venue', 'run the simulated venue as a standalone process', `Usage: egress sim-venue [--port N]

Runs the simulated venue (with fault injection) as its own process.`)
