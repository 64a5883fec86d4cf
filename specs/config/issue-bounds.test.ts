/**
 * A config error is one line of a readable length, however large what the file got wrong (review): each value is
 * quoted up to 100 characters and its length said, and the first 10 issues are listed, the rest counted. A 3 MB
 * string where an account id goes was quoted whole on stderr, and a file of 100,000 bad ids made one line of 11 MB.
 * An unknown key (the file's text, in the path) is cut to 200 characters too. The error's `issues` still holds every one.
 */

import { expect, test } from 'bun:test'
import { ConfigError, parseConfig } from '../../src/config/index.ts'
import { messageOf } from './support.ts'

test('a huge value is quoted up to 100 characters, with its length', () => {
  const id = 'x'.repeat(3_000_000)
  expect(messageOf(() => parseConfig({ accounts: [{ id }] }))).toBe(
    `accounts.0.id: expected an id of 1-64 characters [A-Za-z0-9._-], starting with a letter or digit, got "${'x'.repeat(99)}… (3000002 characters)`,
  )
  expect(messageOf(() => parseConfig({ port: 'p'.repeat(98) }))).toBe(`port: expected an integer between 1 and 65535, got "${'p'.repeat(98)}"`)
})

test('an unknown key of megabytes is named up to 200 characters, with its length; issues keep it whole', () => {
  const key = 'k'.repeat(3_000_000)
  expect(messageOf(() => parseConfig({ [key]: 1 }))).toBe(`${'k'.repeat(200)}… (3000000 characters): unknown field`)
  expect(messageOf(() => parseConfig({ accounts: [{ id: 'a', [key]: 1 }] }))).toBe(`accounts.0.${'k'.repeat(189)}… (3000011 characters): unknown field`)
  let error: unknown
  try {
    parseConfig({ [key]: 1 })
  } catch (caught) {
    error = caught
  }
  expect((error as ConfigError).issues[0]?.path).toBe(key)
})

test('many issues: the first 10 listed, the rest counted; every one kept in issues', () => {
  const accounts = Array.from({ length: 1_000 }, (_, index) => ({ id: `-${index}` }))
  let error: unknown
  try {
    parseConfig({ accounts })
  } catch (caught) {
    error = caught
  }
  expect(error).toBeInstanceOf(ConfigError)
  const { message, issues } = error as ConfigError
  expect(issues).toHaveLength(1_000)
  expect(message.split('; ')).toHaveLength(11)
  expect(message).toStartWith('accounts.0.id: expected an id of 1-64 characters')
  expect(message).toContain('accounts.9.id: ')
  expect(message).not.toContain('accounts.10.id')
  expect(message).toEndWith('; and 990 more issues')
})
