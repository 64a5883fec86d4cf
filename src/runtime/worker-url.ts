/**
 * Where a worker thread's script is. Run from source, it sits beside the module that spawns it. In the compiled binary
 * every module's URL is the executable's, and each entry point sits under it by its path below src/ (package.json's
 * build lists every worker script as an entry point).
 */

/**
 * `spawnerUrl` is the spawning module's `import.meta.url`, `spawnerFile` its file name, `workerPath` the worker
 * script's path below src/ (in the spawner's folder).
 */
export function workerScriptUrl(spawnerUrl: string, spawnerFile: string, workerPath: string): string {
  const workerFile = workerPath.slice(workerPath.lastIndexOf('/') + 1)
  return spawnerUrl.endsWith(`/${spawnerFile}`) ? new URL(`./${workerFile}`, spawnerUrl).href : new URL(`./${workerPath}`, spawnerUrl).href
}
