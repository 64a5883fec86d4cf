/**
 * The query model's database as bytes (a snapshot's back-office section carries it: store.ts image / openImage), in the
 * journal mode SQLite can open in memory.
 */

/**
 * A serialized WAL-mode database says so in its header (bytes 18–19 = 2, the file format versions), and SQLite cannot
 * open such an image in memory; rollback-journal mode (1) reads the same pages. Opening the file later switches it
 * back to WAL. Marked in place: serialize()'s bytes are the caller's alone (a copy, not the database's memory).
 */
export function markRollbackJournal(image: Uint8Array): Uint8Array {
  if (image.byteLength >= 20) {
    image[18] = 1
    image[19] = 1
  }
  return image
}

/**
 * `image` as SQLite opens it in memory (deserialize copies it): itself when already marked (every image() is), else a
 * marked copy, the caller's bytes never changed. Always copied, a snapshot's 37 MB image took ~37 ms more to reopen.
 */
export function inMemoryImage(image: Uint8Array): Uint8Array {
  if (image.byteLength < 20 || (image[18] === 1 && image[19] === 1)) return image
  return markRollbackJournal(new Uint8Array(image))
}
