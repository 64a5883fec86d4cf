/**
 * A power cut, modelled: a WalIo over node:fs (under one root directory) that also keeps what a power cut could leave
 * on disk, by POSIX's rules rather than a journaling file system's kindness. A kill -9 keeps the page cache (every
 * write and every directory entry made survives); a power cut keeps only what was synced:
 *
 * - a file's bytes as of its last fsync/fdatasync (a new file: empty);
 * - a directory's entries as of its last fsync, plus ANY SUBSET of the entry changes made in it since (creations,
 *   unlinks, renames, links, new subdirectories), which the file system may have written back on its own, in any
 *   order. A rename within one directory is one change (both names or neither); across directories it is one change
 *   too (the journaling file systems egress targets make it atomic), pending until both directories were fsynced.
 *
 * `pendingChanges()` lists the changes not yet durable; `materialize(target, keep)` writes the tree a power cut now
 * would leave, keeping the pending changes `keep` selects, into a fresh directory `target` (which a spec then opens as
 * the next boot would). Only calls through this io are seen: files another path writes (the log's LOCK) are not in
 * the model and a materialized tree never has them. Directories are never renamed here (the model refuses it).
 */

import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { nodeIo, type WalIo } from '../../wal/index.ts'

type NodeRef = { kind: 'file'; id: number } | { kind: 'dir'; path: string }

interface Effect {
  dir: string
  name: string
  /** What the name points to after the change; null: the name is removed. */
  target: NodeRef | null
}

export interface PendingChange {
  readonly label: string
  readonly effects: Effect[]
  /** Directories whose fsync this change still waits for. */
  readonly unsyncedDirs: Set<string>
}

export interface PowerCutIo extends WalIo {
  /** The changes to directory entries not yet durable, oldest first. */
  pendingChanges(): readonly PendingChange[]
  /** Writes into `target` (created, must not exist) the tree a power cut now leaves, with the pending changes `keep` takes. */
  materialize(target: string, keep: (change: PendingChange, index: number) => boolean): void
  /** Called before every call that changes the disk (the spec cuts the power there); the label names the call. */
  beforeChange: ((label: string) => void) | null
}

export function powerCutIo(rootDir: string, base: WalIo = nodeIo): PowerCutIo {
  const root = resolve(rootDir)
  let nextId = 1
  /** The durable entries of every directory the model knows (the root's start empty: it must be empty). */
  const durable = new Map<string, Map<string, NodeRef>>([[root, new Map()]])
  /** The live entries (what the running process sees), to know what a name points to. */
  const live = new Map<string, Map<string, NodeRef>>([[root, new Map()]])
  /** The durable bytes of each file (by identity). */
  const durableBytes = new Map<number, Uint8Array>()
  const fdFiles = new Map<number, number>()
  let pending: PendingChange[] = []

  const inRoot = (path: string): boolean => {
    const rel = relative(root, resolve(path))
    return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'))
  }
  const entriesOf = (map: Map<string, Map<string, NodeRef>>, dir: string): Map<string, NodeRef> => {
    const entries = map.get(dir)
    if (entries === undefined) throw new Error(`power-cut model: unknown directory ${dir}`)
    return entries
  }
  const lookup = (path: string): NodeRef | undefined => live.get(dirname(path))?.get(baseName(path))
  const change = (label: string, effects: Effect[]): void => {
    for (const effect of effects) {
      const entries = entriesOf(live, effect.dir)
      if (effect.target === null) entries.delete(effect.name)
      else entries.set(effect.name, effect.target)
    }
    pending.push({ label, effects, unsyncedDirs: new Set(effects.map((effect) => effect.dir)) })
  }
  const before = (label: string): void => io.beforeChange?.(label)
  const fileOfFd = (fd: number): number | undefined => fdFiles.get(fd)
  const syncFile = (fd: number): void => {
    const id = fileOfFd(fd)
    if (id === undefined) return
    const size = base.sizeBytes(fd)
    const bytes = new Uint8Array(size)
    let filled = 0
    while (filled < size) {
      const count = base.read(fd, bytes.subarray(filled), filled)
      if (count <= 0) break
      filled += count
    }
    durableBytes.set(id, bytes.subarray(0, filled))
  }
  const makeDirs = (path: string): void => {
    const missing: string[] = []
    for (let dir = resolve(path); inRoot(dir) && !live.has(dir); dir = dirname(dir)) missing.push(dir)
    for (const dir of missing.reverse()) {
      live.set(dir, new Map())
      durable.set(dir, new Map())
      change(`mkdir ${relative(root, dir)}`, [{ dir: dirname(dir), name: baseName(dir), target: { kind: 'dir', path: dir } }])
    }
  }

  /** The entry changes made in `dir` become durable (its fsync succeeded). */
  const directorySynced = (dir: string): void => {
    if (!live.has(dir)) return
    const entries = entriesOf(durable, dir)
    const still: PendingChange[] = []
    // In order, so that the last change to a name is what the directory holds.
    for (const pendingChange of pending) {
      if (pendingChange.unsyncedDirs.delete(dir)) {
        for (const effect of pendingChange.effects) {
          if (effect.dir !== dir) continue
          if (effect.target === null) entries.delete(effect.name)
          else entries.set(effect.name, effect.target)
        }
      }
      if (pendingChange.unsyncedDirs.size > 0) still.push(pendingChange)
    }
    pending = still
  }
  /** `moved` (what `source` named before the rename) now named `target` (the rename succeeded). */
  const renamed = (source: string, target: string, moved: NodeRef | undefined): void => {
    if (moved === undefined) return
    if (moved.kind === 'dir') throw new Error('power-cut model: directories are not renamed here')
    change(`rename ${relative(root, source)} -> ${relative(root, target)}`, [
      { dir: dirname(source), name: baseName(source), target: null },
      { dir: dirname(target), name: baseName(target), target: moved },
    ])
  }

  const io: PowerCutIo = {
    ...base,
    beforeChange: null,
    openAppend: (path) => {
      const full = resolve(path)
      const existing = inRoot(full) ? lookup(full) : undefined
      if (inRoot(full) && existing === undefined) before(`create ${relative(root, full)}`)
      const fd = base.openAppend(path)
      if (!inRoot(full)) return fd
      if (existing === undefined) {
        const id = nextId++
        durableBytes.set(id, new Uint8Array(0))
        change(`create ${relative(root, full)}`, [{ dir: dirname(full), name: baseName(full), target: { kind: 'file', id } }])
        fdFiles.set(fd, id)
      } else if (existing.kind === 'file') fdFiles.set(fd, existing.id)
      return fd
    },
    openRead: (path) => {
      const fd = base.openRead(path)
      const found = inRoot(path) ? lookup(resolve(path)) : undefined
      if (found?.kind === 'file') fdFiles.set(fd, found.id)
      return fd
    },
    write: (fd, data, positionBytes) => {
      before('write')
      base.write(fd, data, positionBytes)
    },
    writeOffLoop: (fd, data, positionBytes, done) => {
      before('write off loop')
      base.writeOffLoop(fd, data, positionBytes, done)
    },
    truncate: (fd, lengthBytes) => {
      before('truncate')
      base.truncate(fd, lengthBytes)
    },
    fsync: (fd) => {
      before('fsync')
      base.fsync(fd)
      syncFile(fd)
    },
    fsyncOffLoop: (fd, done) => {
      before('fsync')
      base.fsyncOffLoop(fd, (error) => {
        if (error === null) syncFile(fd)
        done(error)
      })
    },
    fdatasync: (fd) => {
      before('fdatasync')
      base.fdatasync(fd)
      syncFile(fd)
    },
    fdatasyncOffLoop: (fd, done) => {
      before('fdatasync')
      base.fdatasyncOffLoop(fd, (error) => {
        if (error === null) syncFile(fd)
        done(error)
      })
    },
    close: (fd) => {
      fdFiles.delete(fd)
      base.close(fd)
    },
    fsyncDirectory: (path) => {
      const dir = resolve(path)
      before(`fsync dir ${relative(root, dir) || '.'}`)
      base.fsyncDirectory(path)
      directorySynced(dir)
    },
    fsyncDirectoryOffLoop: (path, done) => {
      const dir = resolve(path)
      before(`fsync dir ${relative(root, dir) || '.'}`)
      base.fsyncDirectoryOffLoop(path, (error) => {
        if (error === null) directorySynced(dir)
        done(error)
      })
    },
    rename: (from, to) => {
      const source = resolve(from)
      const target = resolve(to)
      before(`rename ${relative(root, source)} -> ${relative(root, target)}`)
      const moved = lookup(source)
      base.rename(from, to)
      renamed(source, target, moved)
    },
    renameOffLoop: (from, to, done) => {
      const source = resolve(from)
      const target = resolve(to)
      before(`rename ${relative(root, source)} -> ${relative(root, target)}`)
      const moved = lookup(source)
      base.renameOffLoop(from, to, (error) => {
        if (error === null) renamed(source, target, moved)
        done(error)
      })
    },
    link: (existing, newPath) => {
      const target = resolve(newPath)
      before(`link ${relative(root, target)}`)
      base.link(existing, newPath)
      const linked = lookup(resolve(existing))
      if (linked !== undefined && inRoot(target)) change(`link ${relative(root, target)}`, [{ dir: dirname(target), name: baseName(target), target: linked }])
    },
    unlink: (path) => {
      const full = resolve(path)
      before(`unlink ${relative(root, full)}`)
      base.unlink(path)
      if (lookup(full) !== undefined) change(`unlink ${relative(root, full)}`, [{ dir: dirname(full), name: baseName(full), target: null }])
    },
    removeAll: (path) => {
      const full = resolve(path)
      before(`remove ${relative(root, full)}`)
      base.removeAll(path)
      if (lookup(full) !== undefined) change(`remove ${relative(root, full)}`, [{ dir: dirname(full), name: baseName(full), target: null }])
    },
    mkdirp: (path) => {
      if (inRoot(path) && !live.has(resolve(path))) before(`mkdir ${relative(root, resolve(path))}`)
      base.mkdirp(path)
      if (inRoot(path)) makeDirs(path)
    },
    pendingChanges: () => pending,
    materialize: (target, keep) => {
      const kept = pending.filter((pendingChange, index) => keep(pendingChange, index))
      const entriesAfterCut = (dir: string): Map<string, NodeRef> => {
        const entries = new Map(durable.get(dir) ?? [])
        for (const pendingChange of kept) {
          for (const effect of pendingChange.effects) {
            if (effect.dir !== dir || !pendingChange.unsyncedDirs.has(dir)) continue
            if (effect.target === null) entries.delete(effect.name)
            else entries.set(effect.name, effect.target)
          }
        }
        return entries
      }
      const write = (dir: string, into: string): void => {
        mkdirSync(into)
        for (const [name, node] of entriesAfterCut(dir)) {
          if (node.kind === 'dir') write(node.path, join(into, name))
          else writeFileSync(join(into, name), durableBytes.get(node.id) ?? new Uint8Array(0))
        }
      }
      write(root, target)
    },
  }
  if (!statSync(root).isDirectory()) throw new Error(`${root} is not a directory`)
  return io
}

function baseName(path: string): string {
  const parts = path.split('/')
  return parts[parts.length - 1] as string
}

type Keep = (change: PendingChange, index: number) => boolean

/**
 * The subsets of `count` pending changes a spec tries, as keep-predicates: every one up to 10 changes; beyond, a
 * bounded family (none, all, each alone, all but each, every prefix and every suffix), which still holds every
 * "later change kept, earlier one lost" pair of neighbours.
 */
export function everySubset(count: number): Keep[] {
  if (count <= 10) {
    const subsets: Keep[] = []
    for (let mask = 0; mask < 1 << count; mask++) subsets.push((_change, index) => (mask & (1 << index)) !== 0)
    return subsets
  }
  const subsets: Keep[] = [() => false, () => true]
  for (let at = 0; at < count; at++) {
    subsets.push((_change, index) => index === at)
    subsets.push((_change, index) => index !== at)
    subsets.push((_change, index) => index < at)
    subsets.push((_change, index) => index > at)
  }
  return subsets
}
