/**
 * The compact format's vocabulary is part of the format: payloads hold its indexes. Any change to it — a word added,
 * removed, moved or respelled — would make version 3 payloads read as other strings or be refused, so the list is
 * pinned by its digest; a new word needs a new payload version (vocabulary.ts).
 */

import { describe, expect, test } from 'bun:test'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { GATE_CHECKS } from '../../../src/domain/gate.ts'
import { GUARD_NAMES } from '../../../src/domain/guards.ts'
import { evaluateGate } from '../../../src/kernel/gate.ts'
import { VOCABULARY, wordIndexOf } from '../../../src/domain/events/vocabulary.ts'
import { paperFacts } from '../../kernel/fixtures.ts'

/** Words below this index take one byte (2 × index + 1 < 128). */
const ONE_BYTE_WORDS = 64

describe('the vocabulary of the compact format', () => {
  test('is the list version 3 payloads were written with (224 words, in order)', () => {
    expect(VOCABULARY.length).toBe(224)
    expect(new Set(VOCABULARY).size).toBe(VOCABULARY.length)
    expect(bytesToHex(sha256(new TextEncoder().encode(JSON.stringify(VOCABULARY))))).toBe('3eebe00e237f0f247e576997ad2e54d676d087ea520c7c075485a174e85c284f')
    expect(Object.isFrozen(VOCABULARY)).toBe(true)
  })

  test('holds what every order writes in one byte each: guard names, outcomes, the gate checks and their passing details', () => {
    // As serve decides a paper send: liveExplicit false (src/cli/serve-gateway.ts).
    const passing = evaluateGate({ ...paperFacts, liveExplicit: false, action: 'place', mode: 'paper', policyAllows: true, guardsPassed: true, reservationHeld: true, health: 'OK', healthOverride: false })
    const words = [...GUARD_NAMES, 'pass', 'fail', ...GATE_CHECKS, ...passing.checks.map((check) => check.detail), 'place', 'paper']
    for (const word of words) {
      const index = wordIndexOf(word)
      if (index < 0 || index >= ONE_BYTE_WORDS) throw new Error(`${JSON.stringify(word)} is word ${index}, not one of the first ${ONE_BYTE_WORDS}`)
    }
  })

  test('wordIndexOf finds every word and nothing else: near misses of each word, ids, amounts, digests, non-ASCII', () => {
    const candidates = new Set<string>(['', 'a', '0.001', '59000', '543e04fe7097c0d08696', 'f'.repeat(64), 'é', 'éxpired', 'pass\u0000'])
    for (const word of VOCABULARY) {
      candidates.add(word)
      candidates.add(word.slice(1))
      candidates.add(word.slice(0, -1))
      candidates.add(`${word}x`)
      candidates.add(`x${word.slice(1)}`) // same length, another first character
      candidates.add(`${word.slice(0, -1)}\u00e9`) // same length and first character, another last one
      candidates.add(word.toUpperCase() === word ? word.toLowerCase() : word.toUpperCase())
    }
    for (const text of candidates) expect([text, wordIndexOf(text)]).toEqual([text, VOCABULARY.indexOf(text)])
  })
})
