/**
 * runtime/snapshot/ — snapshots of the projections at an LSN, so restart replays only the log after it: the kernel
 * state's versioned encoding, the crash-safe snapshot store (files, manifest, retention, verification on load with
 * fallback), taking snapshots from a running engine, compaction below the oldest retained snapshot, and the offline
 * rebuild that replay-verify uses.
 */

export { CodecError } from './codec-kit.ts'
export {
  decodeKernelState, encodeKernelState, KERNEL_STATE_FORMAT_VERSION, KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateFromBytes,
} from './state-codec.ts'
