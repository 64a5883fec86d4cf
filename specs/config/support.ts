/** Helpers shared by the config specs. */

import { expect } from 'bun:test'
import { ConfigError } from '../../src/config/index.ts'

/** The message of the ConfigError `run` throws (fails the spec if it throws anything else, or nothing). */
export function messageOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).message
  }
  throw new Error('no ConfigError thrown')
}
