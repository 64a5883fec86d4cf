/** http/backpressure/ — token buckets and the load shedder for new orders. */

export { TokenBucket, type BucketLimits } from './token-bucket.ts'
export { LoadShedder, type Admission, type LoadShedderOptions, type ShedScope } from './load-shedder.ts'
export { BucketTable, type BucketLookup } from './bucket-table.ts'
