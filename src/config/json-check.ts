/**
 * A strict check of a config file's JSON text before JSON.parse reads it, for the two things JSON.parse does badly for
 * an operator:
 *
 * - A field given twice (`"mode"` in two places, two `"auth"` sections) is legal to JSON.parse, which keeps the last
 *   one without a word: the first value, the one the operator may be looking at, is silently ignored. Here it is an
 *   error naming the field's dotted path and both lines.
 * - A syntax error (a comment, a trailing comma, single quotes) comes back from JSON.parse with no position, or with
 *   the offending text quoted (a secret, say). Here it is a line and column and what was expected there, never any of
 *   the file's text.
 *
 * The grammar is RFC 8259's, nothing more; nesting is bounded so a hostile file cannot exhaust the stack.
 */

/** Objects and arrays nested deeper than this are refused (a config is a few levels deep). */
export const JSON_DEPTH_MAX = 64

export type JsonProblem =
  | { kind: 'syntax'; line: number; column: number; message: string }
  | { kind: 'duplicate'; path: string; firstLine: number; line: number }

/** The first problem in `text`, or null when it is one JSON value with no key repeated in any object. */
export function checkJsonText(text: string): JsonProblem | null {
  try {
    const scanner = new Scanner(text)
    scanner.value('', 0)
    scanner.space()
    if (scanner.at < text.length) scanner.fail('unexpected text after the end of the JSON value')
    return null
  } catch (error) {
    if (error instanceof Found) return error.problem
    throw error
  }
}

class Found {
  constructor(readonly problem: JsonProblem) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y

class Scanner {
  at = 0

  constructor(private readonly text: string) {}

  value(path: string, depth: number): void {
    this.space()
    const char = this.text[this.at]
    if (char === '{') return this.object(path, depth + 1)
    if (char === '[') return this.array(path, depth + 1)
    if (char === '"') return void this.string()
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number()
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.at)) {
        this.at += literal.length
        return
      }
    }
    if (char === undefined) this.fail('the file ends where a value was expected')
    if (char === "'") this.fail('single quotes are not JSON: use double quotes')
    if (char === '/') this.fail('comments are not JSON')
    this.fail('expected a value: a "string", a number, true, false, null, an object or a list')
  }

  private object(path: string, depth: number): void {
    this.enter(depth)
    /** Where each key of this object starts (an offset: lines are counted only for a problem). */
    const offsets = new Map<string, number>()
    this.space()
    if (this.text[this.at] === '}') {
      this.at += 1
      return
    }
    for (;;) {
      this.space()
      if (this.text[this.at] !== '"') {
        if (/[A-Za-z_$]/.test(this.text[this.at] ?? '')) this.fail('expected a field name in double quotes: field names are quoted in JSON')
        this.failHere('a field name in double quotes')
      }
      const keyOffset = this.at
      const key = this.string()
      const keyPath = path === '' ? key : `${path}.${key}`
      const firstOffset = offsets.get(key)
      if (firstOffset !== undefined) {
        throw new Found({ kind: 'duplicate', path: keyPath, firstLine: this.lineOf(firstOffset), line: this.lineOf(keyOffset) })
      }
      offsets.set(key, keyOffset)
      this.space()
      if (this.text[this.at] !== ':') this.failHere("':' after the field name")
      this.at += 1
      this.value(keyPath, depth)
      if (this.closeOrNext('}')) return
    }
  }

  private array(path: string, depth: number): void {
    this.enter(depth)
    this.space()
    if (this.text[this.at] === ']') {
      this.at += 1
      return
    }
    for (let index = 0; ; index += 1) {
      this.space()
      if (this.text[this.at] === ']') this.fail("a trailing comma before ']' is not JSON")
      this.value(path === '' ? String(index) : `${path}.${index}`, depth)
      if (this.closeOrNext(']')) return
    }
  }

  /** After a member: true at the closing bracket, false at a comma; anything else is an error. */
  private closeOrNext(close: '}' | ']'): boolean {
    this.space()
    const char = this.text[this.at]
    if (char !== close && char !== ',') this.failHere(`',' or '${close}'`)
    this.at += 1
    if (char === close) return true
    if (close === '}') {
      this.space()
      if (this.text[this.at] === '}') this.fail("a trailing comma before '}' is not JSON")
    }
    return false
  }

  /** Reads a string at a `"`, returns its value. */
  private string(): string {
    const start = this.at
    STRING_BODY.lastIndex = start + 1
    STRING_BODY.exec(this.text)
    const end = STRING_BODY.lastIndex
    const char = this.text[end]
    if (char !== '"') {
      this.at = end
      if (char === undefined) this.fail('the file ends inside a string')
      this.fail(char === '\\' ? 'an invalid escape in a string' : 'a control character (a line break, a tab) inside a string')
    }
    this.at = end + 1
    const raw = this.text.slice(start, this.at)
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1)
  }

  private number(): void {
    NUMBER.lastIndex = this.at
    const match = NUMBER.exec(this.text)
    if (match === null || match[0] === '-') this.fail('an invalid number')
    this.at = NUMBER.lastIndex
  }

  space(): void {
    while (this.at < this.text.length && ' \t\n\r'.includes(this.text[this.at] as string)) this.at += 1
  }

  private enter(depth: number): void {
    if (depth > JSON_DEPTH_MAX) this.fail(`nested deeper than ${JSON_DEPTH_MAX} levels`)
    this.at += 1
  }

  /** Fails with "expected X", naming a comment or the file's end when that is what stands there. */
  private failHere(expected: string): never {
    const char = this.text[this.at]
    if (char === undefined) this.fail(`the file ends where ${expected} was expected`)
    if (char === '/') this.fail(`comments are not JSON (expected ${expected})`)
    if (char === "'") this.fail('single quotes are not JSON: use double quotes')
    this.fail(`expected ${expected}`)
  }

  fail(message: string): never {
    const before = this.text.slice(0, this.at)
    const lineStart = before.lastIndexOf('\n') + 1
    throw new Found({ kind: 'syntax', line: this.lineOf(this.at), column: this.at - lineStart + 1, message })
  }

  private lineOf(offset: number): number {
    let line = 1
    for (let index = this.text.indexOf('\n'); index !== -1 && index < offset; index = this.text.indexOf('\n', index + 1)) line += 1
    return line
  }
}
