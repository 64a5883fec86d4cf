/**
 * The README's Runbook and Threat model (§13, §14) name what an operator types and watches: metrics, error and reason
 * codes, routes, CLI commands and their options, config fields, records and log events, /health fields, files. Each
 * name is checked against the thing itself (readme-names.ts says how), so a rename or removal in the code fails here
 * instead of leaving the runbook to send an operator after something that is gone. Each incident keeps the six steps
 * in the order §13 asks for, and each category must still find names, so a change of format that made the walk miss
 * them fails too.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { CATEGORIES, category, checked, section, spans, startServed, type Served } from './readme-names.ts'

const RUNBOOK = [...spans(section('Runbook')), ...spans(section('Threat model'))]
const STEPS = ['Observe', 'Decide', 'Automatic', 'Manual', 'Audit', 'Prevent']

let served: Served
beforeAll(async () => {
  served = await startServed()
})
afterAll(async () => served.stop())

describe('the README runbook and threat model name only what exists', () => {
  for (const each of CATEGORIES) {
    test(`every ${each.name} they name exists`, () => {
      const { found, problems } = checked(each, RUNBOOK)
      expect(problems).toEqual([])
      expect(found).toBeGreaterThan(0)
    })
  }

  test('the walk finds the names (a change of format cannot make it check nothing)', () => {
    const count = (name: string): number => checked(category(name), RUNBOOK).found
    expect(count('metric')).toBeGreaterThanOrEqual(25)
    expect(count('code')).toBeGreaterThanOrEqual(40)
    expect(count('route')).toBeGreaterThanOrEqual(15)
    expect(count('cli')).toBeGreaterThanOrEqual(8)
    expect(count('config field')).toBeGreaterThanOrEqual(30)
  })
})

describe('the runbook', () => {
  test(`has every incident §13 names, each with the six steps in order (${STEPS.join(' → ')})`, () => {
    const entries = section('Runbook').split('\n### ').slice(1)
    const titles = entries.map((entry) => entry.split('\n')[0] as string)
    for (const topic of ['Unknown', '429', 'gaps', 'failover', 'DR', 'Key rotation', 'erroneous order', 'Tamper', 'CRITICAL', 'Disk full']) {
      expect({ topic, entry: titles.some((title) => title.includes(topic)) }).toEqual({ topic, entry: true })
    }
    for (const entry of entries) {
      const steps = [...entry.matchAll(/^- \*\*(\w+)\*\*:/gm)].map((match) => match[1])
      expect({ entry: entry.split('\n')[0], steps }).toEqual({ entry: entry.split('\n')[0], steps: STEPS })
    }
  })

  test('the threat model has the four columns and every threat §14 asks about', () => {
    const model = section('Threat model')
    expect(model).toContain('| threat | defend | detect | recover | evidence |')
    for (const threat of ['forged or replayed token', 'insider placing orders', 'log tampering', 'config tampering', 'venue impersonation', 'resource exhaustion', 'secret leak']) {
      expect({ threat, row: model.includes(`\n| ${threat}`) }).toEqual({ threat, row: true })
    }
    expect(model).toContain('Not defended')
  })
})
