/**
 * Queue names and job payloads. Jobs carry IDs only — BullMQ stores job data in clear in Redis.
 */
export const QUEUES = {
  deliver: 'deliver',
  maintenance: 'maintenance',
} as const;

/** A delivery job: the outbound row to deliver. The job id is the row id, so enqueueing is idempotent. */
export interface DeliverJob {
  outboundId: string;
}

export type MaintenanceJob = { task: 'reconcile' } | { task: 'expire-pickups' } | { task: 'refresh-keys' };

export function deliverJobId(outboundId: string): string {
  return `dlv-${outboundId}`;
}
