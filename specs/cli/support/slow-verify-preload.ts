/**
 * Preloaded into a real `egress serve` by specs/cli/serve-ha-stop-role-change.test.ts: the verification of a JWT whose
 * `sub` is EGRESS_SPEC_SLOW_SUB takes EGRESS_SPEC_SLOW_MS longer (crypto.subtle.verify, which jose's jwtVerify calls),
 * so a request of that caller stays in flight that long — a slow request at the moment a stop begins.
 */

const slowSub = process.env.EGRESS_SPEC_SLOW_SUB
const slowMs = Number(process.env.EGRESS_SPEC_SLOW_MS ?? '0')
if (slowSub === undefined || !(slowMs > 0)) throw new Error('EGRESS_SPEC_SLOW_SUB and EGRESS_SPEC_SLOW_MS must be set')

const verify = crypto.subtle.verify.bind(crypto.subtle)
crypto.subtle.verify = async (...args: Parameters<SubtleCrypto['verify']>) => {
  const signingInput = new TextDecoder().decode(args[3] as Uint8Array)
  const payload = signingInput.split('.')[1] ?? ''
  let sub: unknown = null
  try {
    sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub
  } catch {
    // Not a JWT's signing input: verified as it is.
  }
  if (sub === slowSub) await Bun.sleep(slowMs)
  return verify(...args)
}
