import { promises as dns } from 'node:dns';
import { dkimVerify } from 'mailauth';
import { z } from 'zod';

/**
 * DKIM (RFC 6376) as proof that the From domain sent a message: verified by `mailauth` (nodemailer's
 * mail-authentication library; never by hand), against the public key in DNS. The resolver is injected so
 * that tests serve the key without the internet; production asks the system's DNS servers.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

export type DkimProof =
  | { ok: true; domain: string }
  | {
      ok: false;
      /**
       * dkim-none: no signature; dkim-fail: none verified (bad signature, body changed, no or bad key,
       * expired); dkim-not-aligned: one verified, but for another domain than From's, or without From in
       * what it signs, or only part of the body (`l=`); dkim-temperror: DNS did not answer (in time).
       */
      reason: 'dkim-none' | 'dkim-fail' | 'dkim-not-aligned' | 'dkim-temperror';
    };

/** A DKIM key lookup waits at most this long per try (ms), twice: inbound mail waits for it in line. */
const DNS_TIMEOUT_MS = 2000;
const DNS_TRIES = 2;
/**
 * All of a message's DKIM checks together take at most this long (ms): a sender can add any number of
 * signatures whose keys live on slow name servers, and the sending MTA waits for our reply meanwhile.
 */
const DKIM_BUDGET_MS = 5000;

export function systemResolver(): DnsResolver {
  const resolver = new dns.Resolver({ timeout: DNS_TIMEOUT_MS, tries: DNS_TRIES });
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}

/**
 * Whether `raw` (the message as the sending server handed it over) carries a DKIM signature that verifies,
 * covers the From field and the whole body, and whose signing domain is aligned with the From domain
 * (DMARC relaxed alignment: the same organisational domain). `from` is the unambiguous From address; the
 * From mailauth reads must be the same single address, so that two parsers cannot disagree about it.
 */
export async function dkimProof(
  raw: Buffer,
  from: string,
  options: { resolver: DnsResolver; now: Date },
): Promise<DkimProof> {
  const result = await withinBudget(dkimVerify(raw, { resolver: options.resolver, curTime: options.now }));
  if (!result) return { ok: false, reason: 'dkim-temperror' };
  const signatures = z.array(signatureSchema).parse(result.results);
  const sameFrom = result.headerFrom.length === 1 && result.headerFrom[0]!.toLowerCase() === from;
  const passed = signatures.filter((r) => r.status.result === 'pass');
  const aligned = passed.find(
    (r) => sameFrom && !!r.signingDomain && isAligned(r) && coversFrom(r) && !r.canonBodyLengthLimited,
  );
  if (aligned) return { ok: true, domain: aligned.signingDomain!.toLowerCase() };
  if (passed.length > 0) return { ok: false, reason: 'dkim-not-aligned' };
  if (signatures.every((r) => r.status.result === 'none')) return { ok: false, reason: 'dkim-none' };
  if (signatures.some((r) => r.status.result === 'temperror')) return { ok: false, reason: 'dkim-temperror' };
  return { ok: false, reason: 'dkim-fail' };
}

/** The part of mailauth's result per signature that is read here (its typings leave some of it out). */
const signatureSchema = z.object({
  signingDomain: z.string().optional(),
  status: z.object({
    result: z.string(),
    // The From's organisational domain when the signing domain is aligned with it, else false.
    aligned: z.union([z.string(), z.boolean()]).optional(),
  }),
  signingHeaders: z.object({ keys: z.string() }).optional(),
  canonBodyLengthLimited: z.boolean().optional(),
});
type Signature = z.infer<typeof signatureSchema>;

function isAligned(r: Signature): boolean {
  return typeof r.status.aligned === 'string' && r.status.aligned !== '';
}

/** RFC 6376 §5.4 requires From among the signed fields; a signature without it vouches for no author. */
function coversFrom(r: Signature): boolean {
  return (r.signingHeaders?.keys ?? '').split(':').some((k) => k.trim().toLowerCase() === 'from');
}

async function withinBudget<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), DKIM_BUDGET_MS);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
