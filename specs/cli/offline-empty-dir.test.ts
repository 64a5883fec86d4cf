/**
 * A DIR given empty to an offline command (`egress snapshot "$DIR"` with the variable unset) is wrong usage, exit 2,
 * as `--archive ""` is. It was looked for as a directory named "" — "egress snapshot:  does not exist: not a data
 * directory", exit 1, as if a data directory were missing — after the swap checks had read the working directory.
 */

import { expect, test } from 'bun:test'
import { cli } from './io.ts'

test('an empty DIR: exit 2, one line naming DIR, for every offline command', async () => {
  for (const argv of [['snapshot', ''], ['compact', ''], ['compact', '', '--dry-run'], ['repair-tail', ''], ['repair-tail', '', '--truncate-at-lsn', '2'], ['replay-verify', ''], ['audit', 'verify', '', '--no-signatures'], ['audit', 'anchor', '']]) {
    const run = await cli(argv)
    const name = argv[0] as string
    expect({ argv, code: run.code, err: run.err }).toEqual({ argv, code: 2, err: `egress ${name}: DIR: expected a directory, got "" (see "egress ${name} --help")` })
  }
})
