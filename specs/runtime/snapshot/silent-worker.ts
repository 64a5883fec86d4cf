// A worker thread that takes every request and never answers: a basis-check thread that cannot get a core (SCHED_IDLE
// on a machine busy with other work) or is stuck (shutdown-basis-wait.test.ts).
declare const self: Worker

self.onmessage = () => undefined
