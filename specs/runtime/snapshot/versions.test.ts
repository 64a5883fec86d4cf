import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BACKOFFICE_SECTION, BACKOFFICE_SECTION_VERSION, backOfficeOf, backOfficeSectionSource } from '../../../src/backoffice/index.ts'
import type { Gateway } from '../../../src/runtime/gateway.ts'
import { stateDigest } from '../../../src/kernel/index.ts'
import {
  decodeSnapshot, encodeKernelState, encodeSnapshot, KERNEL_SECTION, kernelStateFromBytes, readableKernelSchemas, rebuildState, SnapshotError,
} from '../../../src/runtime/snapshot/index.ts'
import { kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { openReadOnly } from '../../../wal/index.ts'
import { withEvidence } from '../../support/evidence.ts'
import { removeDir, startWorld, type World } from '../harness.ts'
import { beforeHoldRule, encodeWithFormat12Policies, trade, withoutHeldCap } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A snapshot file's header JSON rewritten (the rest kept), with a fresh trailing digest so only the version differs. */
function withHeaderVersion(bytes: Uint8Array, version: number): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length))) as Record<string, unknown>
  header.version = version
  const encoded = new TextEncoder().encode(JSON.stringify(header))
  const body = bytes.subarray(12 + length, bytes.byteLength - 32)
  const out = new Uint8Array(12 + encoded.byteLength + body.byteLength + 32)
  out.set(bytes.subarray(0, 8), 0)
  new DataView(out.buffer).setUint32(8, encoded.byteLength, true)
  out.set(encoded, 12)
  out.set(body, 12 + encoded.byteLength)
  out.set(Bun.SHA256.hash(out.subarray(0, out.byteLength - 32)) as Uint8Array, out.byteLength - 32)
  return out
}

async function worldWithOffice(options: { seed: number; dir?: string; from?: World; beforeHeldCap?: boolean }): Promise<World> {
  let gateway: Gateway | null = null
  const restart = options.from === undefined ? {} : { dir: options.from.dir, clock: options.from.clock, venue: options.from.venue }
  // Configured as a build before format 18 (no cap on ended orders held), for a spec writing an older format's snapshot.
  const configure = options.beforeHeldCap === true ? { configure: withoutHeldCap } : {}
  const world = await startWorld({ seed: options.seed, ...restart, ...configure, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  return world
}

describe('snapshots of another format version', () => {
  test('a snapshot file of another format version is refused by name, never misread; the gateway replays the log instead', async () => {
    await withEvidence(
      { id: 'snapshot.other-format-version-refused', kind: 'fault', spec: 'specs/runtime/snapshot/versions.test.ts', invariant: 'a snapshot file or back-office section written under another format version is refused with FORMAT_VERSION and the projections are rebuilt from the log' },
      async () => {
        const first = await worldWithOffice({ seed: 501 })
        dirs.push(first.dir)
        await trade(first, { orders: 12, tag: 'f', seed: 501 })
        await first.gateway.stop()
        const file = join(first.dir, 'snapshots', newest(first.dir))
        const original = new Uint8Array(readFileSync(file))
        for (const version of [0, 2]) expect(codeOf(() => decodeSnapshot(withHeaderVersion(original, version)))).toBe('FORMAT_VERSION')
        writeFileSync(file, withHeaderVersion(original, 2))
        const second = await worldWithOffice({ seed: 501, from: first })
        expect(second.gateway.restoreReport?.snapshot).toBeNull()
        expect(second.gateway.restoreReport?.rejected.map((rejected) => rejected.code)).toEqual(['FORMAT_VERSION'])
        expect(backOfficeOf(second.gateway).stats().sectionLsn).toBeNull()
        await second.gateway.stop()

        // The file current, its back-office section of another version: the kernel uses the snapshot, the back office
        // refuses its section by name and replays the log.
        const content = decodeSnapshot(new Uint8Array(readFileSync(join(first.dir, 'snapshots', newest(first.dir)))))
        const section = content.sections.get(BACKOFFICE_SECTION) as Uint8Array
        const sectionLength = new DataView(section.buffer, section.byteOffset).getUint32(8, true)
        const sectionHeader = JSON.parse(new TextDecoder().decode(section.subarray(12, 12 + sectionLength))) as Record<string, unknown>
        sectionHeader.version = BACKOFFICE_SECTION_VERSION + 1
        const encodedHeader = new TextEncoder().encode(JSON.stringify(sectionHeader))
        const otherSection = new Uint8Array(12 + encodedHeader.byteLength + section.byteLength - 12 - sectionLength)
        otherSection.set(section.subarray(0, 8), 0)
        new DataView(otherSection.buffer).setUint32(8, encodedHeader.byteLength, true)
        otherSection.set(encodedHeader, 12)
        otherSection.set(section.subarray(12 + sectionLength), 12 + encodedHeader.byteLength)
        const sections = new Map(content.sections)
        sections.set(BACKOFFICE_SECTION, otherSection)
        const { format: _format, version: _version, sections: _infos, ...meta } = content.header
        writeFileSync(join(first.dir, 'snapshots', newest(first.dir)), encodeSnapshot(meta, sections).bytes)
        const third = await worldWithOffice({ seed: 501, from: first })
        expect(third.gateway.restoreReport?.snapshot).not.toBeNull()
        const stats = backOfficeOf(third.gateway).stats()
        expect(stats.sectionProblem).toStartWith(`FORMAT_VERSION: back-office section version ${BACKOFFICE_SECTION_VERSION + 1}`)
        expect(stats.sectionLsn).toBeNull()
        expect(stats.ledgerComplete).toBe(true)
        await third.gateway.stop()
        return { cases: 2 }
      },
    )
  })
})

describe("snapshots of the previous build's kernel encoding", () => {
  test('a snapshot whose kernel state is format 7 (orders without the synthetic quantity pending a true-up) is used at restart, not replayed around', async () => {
    const first = await worldWithOffice({ seed: 502, beforeHeldCap: true })
    dirs.push(first.dir)
    await trade(first, { orders: 12, tag: 'p', seed: 502 })
    await first.gateway.stop()
    const file = join(first.dir, 'snapshots', newest(first.dir))
    const content = decodeSnapshot(new Uint8Array(readFileSync(file)))
    const previous = readableKernelSchemas().find((schema) => schema.startsWith('kernel-state/v7/')) as string
    expect(previous).toBeDefined()
    const state = beforeHoldRule(kernelStateFromBytes(content.sections.get(KERNEL_SECTION) as Uint8Array))
    const { json, idempotency } = encodeWithFormat12Policies(state)
    const fields = json as unknown[]
    // Format 8's three pending fields, format 10's limitLoosest (kept for the orders amended here) and format 11's
    // syntheticDeclinedCumQty (none declined here).
    for (const [, row] of fields[7] as [string, unknown[]][]) {
      const newer = row.splice(-5)
      expect(newer.slice(0, 3)).toEqual(['0', '0', '0'])
      expect(newer[4]).toBeNull()
    }
    // Format 15's revocations (none here), format 12's venueHealth (none recorded here), then format 9's retireRule, which format 7 did not hold (the
    // restart records the rule again: kernel.retire_rule_adopted).
    expect(fields.pop()).toEqual([])
    expect(fields.pop()).toEqual([[], [], 0])
    expect(fields.pop()).toEqual([])
    fields.pop()
    // Format 13's book limits in the config (none set here): the instruments' last member, the params' last two.
    const config = fields[1] as [string, unknown[][], unknown, unknown[]]
    for (const row of config[1]) expect(row.pop()).toBeNull()
    expect(config[3].splice(-2)).toEqual([null, null])
    for (const [, row] of fields[2] as [string, unknown[]][]) expect(row.pop()).toBeNull()
    const sections = new Map(content.sections)
    sections.set(KERNEL_SECTION, kernelSectionOf(JSON.stringify(fields), idempotency))
    const { format: _format, version: _version, sections: _infos, ...meta } = content.header
    writeFileSync(file, encodeSnapshot({ ...meta, kernelSchema: previous }, sections).bytes)

    const second = await worldWithOffice({ seed: 502, from: first, beforeHeldCap: true })
    expect(second.gateway.restoreReport?.rejected).toEqual([])
    expect(second.gateway.restoreReport?.snapshot?.lsn).toBe(content.header.lsn)
    // The log holds this build's order.limit_loosest records, all before the snapshot (the amends came before the stop):
    // a format 7 snapshot holds no loosest limit, so the restart keeps none, as a log of that build would give.
    const rebuilt = rebuildState(openReadOnly(join(first.dir, 'log'))).state
    expect([...rebuilt.orders.values()].some((order) => order.limitLoosest !== null)).toBe(true)
    for (const order of rebuilt.orders.values()) order.limitLoosest = null
    expect(stateDigest(second.gateway.engine.state)).toBe(stateDigest(rebuilt))
    await second.gateway.stop()
  })
})

function codeOf(run: () => unknown): string | null {
  try {
    run()
  } catch (error) {
    return error instanceof SnapshotError ? error.code : String(error)
  }
  return null
}

function newest(dir: string): string {
  return readdirSync(join(dir, 'snapshots')).filter((name) => name.endsWith('.snap')).sort().at(-1) as string
}
