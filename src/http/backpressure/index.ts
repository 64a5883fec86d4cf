/** http/backpressure/ — token buckets: the load shedder for new orders, the read budget for GET routes. */

export { TokenBucket, type BucketLimits } from './token-bucket.ts'
export { LoadShedder, type Admission, type LoadShedderOptions, type ShedScope } from './load-shedder.ts'
export { BucketTable, type BucketsFull } from './bucket-table.ts'
export { ReadBudget, type ReadAdmission, type ReadBudgetOptions } from './read-budget.ts'
