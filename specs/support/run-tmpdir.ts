// Preloaded by `bun test` (bunfig.toml [test] preload): the run's temp files go into one directory of its own, removed
// when the run ends. Specs make their temp dirs under os.tmpdir() (mkdtempSync(join(tmpdir(), 'egress-…'))), some
// write files beside them, and many never remove them: a developer's /tmp held ~12,000 egress-* directories.
//
// os.tmpdir() reads TMPDIR at each call, so setting it here reaches every spec and the code it runs (a scratch
// directory of src/ included), and node:child_process children, which take process.env. A Bun.spawn child without
// `env` has the environment the run started with (Bun snapshots it): the specs hand their children paths, and a child
// making a temp dir of its own would make it in the system's tmpdir, as before.
//
// Removed by an afterAll hook: one in a preloaded file runs once, after every file's own (bun test runs no 'exit' or
// 'beforeExit' handler). A run killed before its end (SIGKILL, Ctrl-C) leaves its one `egress-specs-*` directory.
import { afterAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const runDir = mkdtempSync(join(tmpdir(), 'egress-specs-'))
process.env.TMPDIR = runDir

afterAll(() => {
  // Best effort: a mount a spec could not unmount (specs/wal/faults.test.ts's tmpfs, busy) must not fail the run.
  try {
    rmSync(runDir, { recursive: true, force: true })
  } catch (error) {
    console.warn(`specs: the run's temp directory ${runDir} was not removed: ${String(error)}`)
  }
})
