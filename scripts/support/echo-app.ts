/**
 * The echo bench:http measures egress against: a Hono app that parses the same JSON order body and answers 202, with
 * no gateway behind it. probe:alloc drives the same app in-process for its baseline.
 */

import { Hono } from 'hono'

export function echoApp(): Hono {
  const app = new Hono()
  let next = 0
  app.post('/v1/orders', async (c) => {
    const body = (await c.req.json()) as { account?: string }
    return c.json({ order_id: `echo-${next++}`, state: 'Enqueued', account: body.account ?? null }, 202)
  })
  return app
}
