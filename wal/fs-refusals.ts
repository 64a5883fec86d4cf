/**
 * What a file-system refusal (an errno's code) says about the place a file is in, in words for an operator: one
 * table for every message that names such a place (a lock file's, dir-lock.ts; a secret file's, src/config/secret.ts).
 */
export const FS_REFUSAL_MEANINGS: Readonly<Record<string, string>> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'the file system is full',
  EDQUOT: 'the disk quota is used up',
  ENOTDIR: 'a part of the path is not a directory',
}
