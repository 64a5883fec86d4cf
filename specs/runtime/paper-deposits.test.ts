/**
 * The in-process sim's deposits at a restart (src/runtime/paper.ts simDepositsAtRestart): what the log funded, plus the
 * config's fundings this start's bootstrap records (src/runtime/bootstrap.ts fundsAtStart) — not the config's opening
 * balances, which bootstrap funds once.
 */

import { expect, test } from 'bun:test'
import { simDepositsAtRestart } from '../../src/runtime/paper.ts'
import { ACCOUNT, d, Harness } from '../kernel/fixtures.ts'

test('an asset the log funded keeps the logged amount whatever the config says; an account or asset new to it takes the config\'s', () => {
  // The log funded ACCOUNT with USD 100000, BTC 2 and AAPL 50.
  const { state } = Harness.funded()
  const logged = [
    { accountId: ACCOUNT, asset: 'USD', amount: d('100000') },
    { accountId: ACCOUNT, asset: 'BTC', amount: d('2') },
    { accountId: ACCOUNT, asset: 'AAPL', amount: d('50') },
  ]
  const accounts = [
    // BTC lowered, AAPL dropped, ETH new (bootstrap funds it now: the kernel holds no ETH).
    { accountId: ACCOUNT, balances: { USD: '100000', BTC: '1', ETH: '7' } },
    // An account new to the log.
    { accountId: 'newcomer', balances: { BTC: '3' } },
  ]
  expect(simDepositsAtRestart(accounts, state, logged)).toEqual({
    [ACCOUNT]: { USD: d('100000'), BTC: d('2'), AAPL: d('50'), ETH: d('7') },
    newcomer: { BTC: d('3') },
  })
})
