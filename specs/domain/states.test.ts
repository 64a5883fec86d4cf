/**
 * The order state dictionary (src/domain/states.ts): isTerminal, written as a switch for apply's hot path, answers
 * exactly TERMINAL_STATES for every state.
 */

import { describe, expect, test } from 'bun:test'
import { isTerminal, ORDER_STATES, TERMINAL_STATES } from '../../src/domain/states.ts'

describe('order states', () => {
  test.each([...ORDER_STATES])('isTerminal(%s) agrees with TERMINAL_STATES', (state) => {
    expect(isTerminal(state)).toBe(TERMINAL_STATES.has(state))
  })

  test('the terminal states are Filled, Canceled, Rejected, Expired and Failed', () => {
    expect([...TERMINAL_STATES].sort()).toEqual(['Canceled', 'Expired', 'Failed', 'Filled', 'Rejected'])
  })
})
