import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.ts'
import { CONFIG_FILE_BYTES_MAX } from '../../src/config/config-file.ts'
import { messageOf } from './support.ts'

function configFile(content: string | Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'egress-config-file-')), 'egress.json')
  writeFileSync(path, content)
  return path
}

const load = (path: string) => loadConfig({ configPath: path, env: {} })

describe('a field given twice', () => {
  test('at the top level is refused, naming the field and both lines, not silently the last one', () => {
    const path = configFile('{\n  "mode": "shadow",\n  "port": 9000,\n  "mode": "paper"\n}')
    expect(messageOf(() => load(path))).toBe(`mode: given twice in config file ${path} (lines 2 and 4); JSON would keep only the last`)
  })

  test('a second section of the same name is refused: the first section was dropped whole', () => {
    const path = configFile('{"auth": {"issuer": "mine"},\n "wal": {},\n "auth": {"audience": "theirs"}}')
    expect(messageOf(() => load(path))).toBe(`auth: given twice in config file ${path} (lines 1 and 3); JSON would keep only the last`)
  })

  test('inside a list of objects, by its dotted path; a key spelt with an escape is the same key', () => {
    const path = configFile('{"accounts": [{"id": "a"}, {"id": "b", "balances": {"USD": "1", "\\u0055SD": "2"}}]}')
    expect(messageOf(() => load(path))).toBe(`accounts.1.balances.USD: given twice in config file ${path} (line 1); JSON would keep only the last`)
  })

  test('the same name in two different objects is fine', () => {
    const path = configFile('{"accounts": [{"id": "a", "balances": {"USD": "1"}}, {"id": "b", "balances": {"USD": "2"}}]}')
    expect(load(path).accounts.map((account) => account.balances.USD)).toEqual(['1', '2'])
  })
})

describe('text that is not JSON is reported by line and column, with what was expected', () => {
  const cases: [string, string, string][] = [
    ['a comment', '{\n  // the port\n  "port": 9000\n}', 'line 2, column 3: comments are not JSON (expected a field name in double quotes)'],
    ['a trailing comma in an object', '{\n  "port": 9000,\n}', "line 3, column 1: a trailing comma before '}' is not JSON"],
    ['a trailing comma in a list', '{"accounts": [{"id": "a"},\n]}', "line 2, column 1: a trailing comma before ']' is not JSON"],
    ['single quotes', "{'port': 9000}", 'line 1, column 2: single quotes are not JSON: use double quotes'],
    ['an unquoted field name', '{port: 9000}', 'line 1, column 2: expected a field name in double quotes: field names are quoted in JSON'],
    ['a missing comma', '{"port": 9000\n "host": "::1"}', "line 2, column 2: expected ',' or '}'"],
    ['a tab inside a string', '{"host": "a\tb"}', 'line 1, column 12: a control character (a line break, a tab) inside a string'],
    ['a cut-off file', '{"port": ', 'line 1, column 10: the file ends where a value was expected'],
    ['an empty file', '', 'line 1, column 1: the file ends where a value was expected'],
    ['text after the object', '{"port": 9000}\n}', 'line 2, column 1: unexpected text after the end of the JSON value'],
    ['a leading zero', '{"port": 09000}', "line 1, column 11: expected ',' or '}'"],
  ]
  for (const [name, text, where] of cases) {
    test(name, () => {
      const path = configFile(text)
      expect(messageOf(() => load(path))).toBe(`config file ${path}: not valid JSON at ${where}`)
    })
  }

  test('nesting is bounded: a file of 100,000 open brackets is an error, not a stack overflow', () => {
    const path = configFile(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)
    expect(messageOf(() => load(path))).toBe(`config file ${path}: not valid JSON at line 1, column 65: nested deeper than 64 levels`)
  })

  test('no text of the file is quoted: a secret with a stray quote in it stays out of the message', () => {
    const secret = 'SuperSecretValue0123456789abcdefXYZ'
    const path = configFile(`{"auth": {"hs256Secret": "${secret}"x}}`)
    const message = messageOf(() => load(path))
    expect(message).not.toContain(secret)
    expect(message).toBe(`config file ${path}: not valid JSON at line 1, column 63: expected ',' or '}'`)
  })
})

describe('numbers', () => {
  test('a number too large for a double is reported as such, not as null', () => {
    const path = configFile('{"port": 1e400, "wal": {"segmentBytesMax": -1e999}}')
    expect(messageOf(() => load(path))).toBe(
      'port: expected an integer between 1 and 65535, got Infinity (too large); wal.segmentBytesMax: expected an integer between 1048576 and 1073741824, got -Infinity (too large)',
    )
  })

  test('a value that fails two steps of a range (not an integer, and above the maximum) is reported once', () => {
    const path = configFile('{"port": 70000.5}')
    expect(messageOf(() => load(path))).toBe('port: expected an integer between 1 and 65535, got 70000.5')
  })
})

describe('encoding and size', () => {
  test('a UTF-8 byte order mark (some editors write one) is dropped, not a JSON error', () => {
    const path = configFile(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"port": 9000}')]))
    expect(load(path).port).toBe(9000)
  })

  test('bytes that are not UTF-8 are refused rather than read as U+FFFD (a secret would change silently)', () => {
    const latin1Secret = new Uint8Array([...new TextEncoder().encode('{"auth": {"hs256Secret": "p'), 0xe4, ...new TextEncoder().encode('ssword-0123456789abcdef0123456789"}}')])
    const path = configFile(latin1Secret)
    expect(messageOf(() => load(path))).toBe(`config file ${path}: not UTF-8 text (save it as UTF-8)`)
  })

  test('a file larger than the bound is refused without being read whole; one at the bound is read', () => {
    const padded = (bytes: number) => `{"port": 9000}${' '.repeat(bytes - 14)}`
    const over = configFile(padded(CONFIG_FILE_BYTES_MAX + 1))
    expect(messageOf(() => load(over))).toBe(`config file ${over}: larger than ${CONFIG_FILE_BYTES_MAX} bytes: not a config file`)
    expect(load(configFile(padded(CONFIG_FILE_BYTES_MAX))).port).toBe(9000)
  })

  test('a device that never ends (/dev/zero) is refused at the bound, not read until memory runs out', () => {
    expect(messageOf(() => load('/dev/zero'))).toBe(`config file /dev/zero: larger than ${CONFIG_FILE_BYTES_MAX} bytes: not a config file`)
  })

  test('a directory is a read error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-config-dir-'))
    expect(messageOf(() => load(dir))).toBe(`config file ${dir}: cannot read (EISDIR)`)
  })
})
