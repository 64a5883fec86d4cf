#!/usr/bin/env bun
/**
 * The `egress` executable: `bun src/main.ts COMMAND …` from a checkout, or `dist/egress COMMAND …` when compiled.
 * Everything lives in src/cli; this file only binds it to the process.
 */

import { runCli, type CliIo } from './cli/index.ts'

const io: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
}

// exitCode rather than exit(): a long-running command (serve) returns only when it is done, and a short one should
// let pending stdout writes flush.
process.exitCode = await runCli(process.argv.slice(2), io)
