/**
 * The domain event union, inferred from the schemas so types and validation cannot drift apart.
 */

import type * as v from 'valibot'
import type { EVENT_SCHEMAS } from './schemas.ts'

export type EventType = keyof typeof EVENT_SCHEMAS

export type DomainEvent = { [K in EventType]: v.InferOutput<(typeof EVENT_SCHEMAS)[K]> }[EventType]

export type EventOf<K extends EventType> = Extract<DomainEvent, { type: K }>
