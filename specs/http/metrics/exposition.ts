/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for specs: it returns the families and the
 * problems it found (empty when the text is valid), so a spec can assert on both.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: string
  help: string
  samples: Sample[]
}

export interface Exposition {
  families: Map<string, Family>
  problems: string[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>()
  const problems: string[] = []
  if (text.length > 0 && !text.endsWith('\n')) problems.push('the text does not end with a newline')
  const seenSeries = new Set<string>()
  let current: Family | null = null
  const closed = new Set<string>()
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue
    const at = `line ${index + 1}`
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      if (!NAME.test(name)) problems.push(`${at}: metric name ${name} is not valid`)
      let family = families.get(name)
      if (family === undefined) {
        family = { name, type: 'untyped', help: '', samples: [] }
        families.set(name, family)
      } else if (family !== current || family.samples.length > 0) problems.push(`${at}: ${kind} for ${name} after its samples or twice`)
      if (current !== null && current !== family) closed.add(current.name)
      current = family
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) problems.push(`${at}: unknown type ${rest}`)
        if (family.type !== 'untyped' && (family as { typed?: boolean }).typed === true) problems.push(`${at}: second TYPE for ${name}`)
        family.type = rest
        ;(family as { typed?: boolean }).typed = true
      } else {
        if ((family as { helped?: boolean }).helped === true) problems.push(`${at}: second HELP for ${name}`)
        ;(family as { helped?: boolean }).helped = true
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) problems.push(`${at}: bad escape in HELP`)
        family.help = rest.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'))
      }
      continue
    }
    if (line.startsWith('#')) continue
    const sample = parseSample(line, at, problems)
    if (sample === null) continue
    const familyName = familyOf(sample.name, families)
    let family = families.get(familyName)
    if (family === undefined) {
      family = { name: familyName, type: 'untyped', help: '', samples: [] }
      families.set(familyName, family)
    }
    if (closed.has(familyName)) problems.push(`${at}: samples of ${familyName} are not together`)
    if (current !== null && current !== family) closed.add(current.name)
    current = family
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`
    if (seenSeries.has(key)) problems.push(`${at}: series ${key} appears twice`)
    seenSeries.add(key)
    family.samples.push(sample)
  }
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family, problems)
    if (family.type === 'counter' || family.type === 'gauge') {
      for (const s of family.samples) if (s.name !== family.name) problems.push(`${family.type} ${family.name} has a sample named ${s.name}`)
    }
    if (family.type === 'counter') {
      for (const s of family.samples) if (!(s.value >= 0)) problems.push(`counter ${family.name}${JSON.stringify(s.labels)} is ${s.value}`)
    }
    for (const s of family.samples) if (Number.isNaN(s.value)) problems.push(`${s.name}${JSON.stringify(s.labels)} is NaN`)
  }
  return { families, problems }
}

function familyOf(sampleName: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length)
      const family = families.get(base)
      if (family !== undefined && (family.type === 'histogram' || family.type === 'summary')) return base
    }
  }
  return sampleName
}

function parseSample(line: string, at: string, problems: string[]): Sample | null {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)
  if (head === null) {
    problems.push(`${at}: no metric name in ${JSON.stringify(line)}`)
    return null
  }
  const name = head[1] as string
  let rest = line.slice(name.length)
  const labels: Record<string, string> = {}
  if (rest.startsWith('{')) {
    rest = rest.slice(1)
    while (!rest.startsWith('}')) {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(rest)
      if (label === null) {
        problems.push(`${at}: bad label in ${JSON.stringify(line)}`)
        return null
      }
      const labelName = label[1] as string
      if (!LABEL_NAME.test(labelName)) problems.push(`${at}: label name ${labelName} is not valid`)
      rest = rest.slice(label[0].length)
      let value = ''
      for (;;) {
        const c = rest[0]
        if (c === undefined) {
          problems.push(`${at}: unterminated label value in ${JSON.stringify(line)}`)
          return null
        }
        if (c === '"') break
        if (c === '\\') {
          const next = rest[1]
          if (next === '\\') value += '\\'
          else if (next === '"') value += '"'
          else if (next === 'n') value += '\n'
          else problems.push(`${at}: bad escape \\${next} in ${JSON.stringify(line)}`)
          rest = rest.slice(2)
          continue
        }
        value += c
        rest = rest.slice(1)
      }
      rest = rest.slice(1)
      if (labelName in labels) problems.push(`${at}: label ${labelName} twice`)
      labels[labelName] = value
      if (rest.startsWith(',')) rest = rest.slice(1)
      else if (!rest.startsWith('}')) {
        problems.push(`${at}: expected , or } in ${JSON.stringify(line)}`)
        return null
      }
    }
    rest = rest.slice(1)
  }
  const parts = rest.split(' ')
  if (parts[0] !== '' || parts.length < 2 || parts.length > 3) {
    problems.push(`${at}: expected one space then a value in ${JSON.stringify(line)}`)
    return null
  }
  const text = parts[1] as string
  if (!VALUE.test(text)) problems.push(`${at}: value ${JSON.stringify(text)} is not a float`)
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text)
  return { name, labels, value }
}

function checkHistogram(family: Family, problems: string[]): void {
  const groups = new Map<string, { buckets: { le: number; count: number }[]; sum?: number; count?: number }>()
  for (const s of family.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    let group = groups.get(key)
    if (group === undefined) {
      group = { buckets: [] }
      groups.set(key, group)
    }
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) problems.push(`${family.name}${key}: bucket without le`)
      else group.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: s.value })
    } else if (s.name === `${family.name}_sum`) group.sum = s.value
    else if (s.name === `${family.name}_count`) group.count = s.value
    else problems.push(`histogram ${family.name} has a sample named ${s.name}`)
  }
  for (const [key, group] of groups) {
    const where = `${family.name}${key}`
    if (group.sum === undefined) problems.push(`${where}: no _sum`)
    if (group.count === undefined) problems.push(`${where}: no _count`)
    const last = group.buckets.at(-1)
    if (last === undefined || last.le !== Infinity) problems.push(`${where}: no +Inf bucket last`)
    else if (last.count !== group.count) problems.push(`${where}: +Inf bucket ${last.count} is not _count ${group.count}`)
    for (let i = 1; i < group.buckets.length; i++) {
      const a = group.buckets[i - 1] as { le: number; count: number }
      const b = group.buckets[i] as { le: number; count: number }
      if (!(b.le > a.le)) problems.push(`${where}: le ${b.le} after ${a.le}`)
      if (b.count < a.count) problems.push(`${where}: bucket le=${b.le} (${b.count}) below le=${a.le} (${a.count})`)
    }
  }
}
