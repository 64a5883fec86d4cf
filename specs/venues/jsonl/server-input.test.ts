import { afterEach, describe, expect, test } from 'bun:test'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'
import { defaultSimInstruments } from '../../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../../src/runtime/paper.ts'
import { UNITS_DIGITS_MAX, decodeLine, serveJsonlVenue } from '../../../src/venues/jsonl/index.ts'
import { SimVenue } from '../../../src/venues/sim/index.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

/** A sim venue behind JSONL and a raw TCP client that writes lines and collects the answers (`{id, result}`). */
async function rawSession(): Promise<{ write: (text: string | Uint8Array) => void; answer: (id: number) => Promise<unknown>; logged: string[] }> {
  const clock = new StoppableClock()
  const instruments = defaultSimInstruments()
  const venue = new SimVenue({ clock, seed: 5, instruments: simInstrumentsFor(instruments) })
  const logged: string[] = []
  const server = serveJsonlVenue(venue, { hostname: '127.0.0.1', port: 0, recordPath: null, symbols: instruments.map((i) => i.symbol), pricePushMs: 1_000, log: (line) => void logged.push(line) })
  const answers = new Map<number, unknown>()
  let pending = ''
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port: server.port,
    socket: {
      data(_socket, bytes) {
        pending += new TextDecoder().decode(bytes)
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          const message = decodeLine(line) as { id?: number; result?: unknown }
          if (typeof message.id === 'number') answers.set(message.id, message.result)
        }
      },
    },
  })
  cleanups.push(() => {
    socket.end()
    server.stop()
    clock.cancelAll()
  })
  const answer = async (id: number): Promise<unknown> => {
    for (let waitedMs = 0; waitedMs < 3_000; waitedMs += 10) {
      if (answers.has(id)) return answers.get(id)
      await Bun.sleep(10)
    }
    throw new Error(`no answer to request ${id}`)
  }
  return { write: (text) => void socket.write(text), answer, logged }
}

describe('the JSONL sim venue server and what clients send it', () => {
  test('a line that is not JSON, or not a request, is logged and skipped; the request after it is answered', async () => {
    const session = await rawSession()
    session.write('{not json\n[1,2]\n{"op":"balances","args":"acct"}\n{"id":-1,"op":"balances"}\n{"id":7,"op":"balances","args":"acct-a"}\n')
    expect(await session.answer(7)).toMatchObject({ kind: 'ok' })
    expect(session.logged.filter((line) => line.startsWith('ignoring a client line'))).toHaveLength(4)
  })

  test('a line that is not UTF-8 is logged and skipped, not read with replacement characters; the request after it is answered', async () => {
    const session = await rawSession()
    const bad = new TextEncoder().encode('{"id":6,"op":"balances","args":"acct-')
    session.write(new Uint8Array([...bad, 0xff, 0x22, 0x7d, 0x0a, ...new TextEncoder().encode('{"id":7,"op":"balances","args":"acct-a"}\n')]))
    expect(await session.answer(7)).toMatchObject({ kind: 'ok' })
    expect(session.logged).toEqual(['ignoring 1 client line(s) that are not UTF-8'])
  })

  test('a request for an unknown op or with arguments that do not fit it is answered rejected before the book sees it', async () => {
    const session = await rawSession()
    const place = { clientOrderId: 'eg-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: { $units: '1000' }, price: { $units: '100' }, tif: 'GTC', postOnly: false, reduceOnly: false }
    session.write([
      JSON.stringify({ id: 1, op: 'place', args: null }),
      JSON.stringify({ id: 2, op: 'cancel' }),
      JSON.stringify({ id: 3, op: 'place', args: { ...place, qty: '1000' } }),
      JSON.stringify({ id: 4, op: 'place', args: { ...place, extra: 1 } }),
      JSON.stringify({ id: 5, op: 'selfDestruct', args: null }),
      JSON.stringify({ id: 6, op: 'orderStatus', args: 'eg-1' }),
      '',
    ].join('\n'))
    expect(await session.answer(1)).toEqual({ kind: 'rejected', reason: expect.stringMatching(/^jsonl_request_invalid: malformed place request: args:/) })
    expect(await session.answer(2)).toEqual({ kind: 'rejected', reason: expect.stringMatching(/^jsonl_request_invalid: malformed cancel request: args:/) })
    expect(await session.answer(3)).toEqual({ kind: 'rejected', reason: expect.stringMatching(/^jsonl_request_invalid: malformed place request: args\.qty:/) })
    expect(await session.answer(4)).toEqual({ kind: 'rejected', reason: expect.stringMatching(/^jsonl_request_invalid: malformed place request: args\.extra:/) })
    expect(await session.answer(5)).toEqual({ kind: 'rejected', reason: 'jsonl_op_unknown: "selfDestruct"' })
    // None of the refused places reached the book: it does not know the client order id.
    expect(await session.answer(6)).toEqual({ kind: 'ok', value: null })
  })

  test(`a $units integer longer than ${UNITS_DIGITS_MAX} digits is not made a bigint`, () => {
    const long = '9'.repeat(UNITS_DIGITS_MAX + 1)
    const fits = '9'.repeat(UNITS_DIGITS_MAX)
    expect(decodeLine(`{"a":{"$units":"${fits}"},"b":{"$units":"${long}"}}`)).toEqual({ a: BigInt(fits), b: { $units: long } })
  })
})
