#!/usr/bin/env bun
/**
 * The `egress` executable: `bun src/main.ts COMMAND …` from a checkout, or `dist/egress COMMAND …` when compiled.
 * Everything lives in src/cli; this file only binds it to the process.
 */

import { runCli, type CliIo } from './cli/index.ts'

// A write to a stdout or stderr whose reader has gone (`egress serve | head`, a log shipper that died, `egress token |
// true`) fails with EPIPE, emitted on the stream. Unhandled, it printed a stack trace and turned a short command's
// exit into 1; a serve went on with its output lost and "Bun" crash noise at exit. Output nobody reads is dropped: the
// exit code stays the command's, and a gateway keeps trading (its log, not its stderr, is the record).
for (const stream of [process.stdout, process.stderr]) stream.on('error', ignoreOutputError)

const io: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
}

// exitCode rather than exit(): a long-running command (serve) returns only when it is done, and a short one should
// let pending stdout writes flush.
process.exitCode = await runCli(process.argv.slice(2), io)

function ignoreOutputError(): void {}
