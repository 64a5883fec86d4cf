import { expect, test } from 'bun:test'
import { STOP_SIGNALS, sighupIgnoredIn, watchedStopSignals } from '../../src/cli/stop-signals.ts'

const status = (sigIgn: string): string => `Name:\tbun\nSigBlk:\t0000000000000000\nSigIgn:\t${sigIgn}\nSigCgt:\t0000000000014a02\n`

test('SIGHUP is watched unless the process was started with it ignored (SigIgn bit 0, as nohup sets it)', () => {
  expect(sighupIgnoredIn(status('0000000001001000'))).toBe(false)
  expect(sighupIgnoredIn(status('0000000001001001'))).toBe(true)
  expect(sighupIgnoredIn(status('0000000000000003'))).toBe(true)
  expect(watchedStopSignals(status('0000000001001001'))).toEqual(['SIGTERM', 'SIGINT'])
  expect(watchedStopSignals(status('0000000001001000'))).toEqual([...STOP_SIGNALS])
})

test('without /proc (not Linux) or a SigIgn line, SIGHUP is watched', () => {
  expect(watchedStopSignals(null)).toEqual(['SIGTERM', 'SIGINT', 'SIGHUP'])
  expect(sighupIgnoredIn('Name:\tbun\n')).toBe(false)
})
