import * as contract from '../../../contract/console.ts';
import * as audit from '../../../contract/console-audit.ts';
import * as policy from '../../../contract/console-policy.ts';
import * as queue from '../../../contract/console-queue.ts';
import * as settings from '../../../contract/console-settings.ts';
import * as z from 'zod/mini';
import { ApiError, call, sessionHeader } from './api.ts';

const policyRuleAnswer = z.strictObject({ rule: policy.policyRule });
const cancelAnswer = z.strictObject({ ok: z.boolean(), dsn: z.boolean() });

/** The admin's policy, queue, audit and settings screens (docs/admin-console.md), checked against the contracts. */
export const rules = () => call('GET', '/policy', policy.policyAnswer);
export const setRule = (rule: {
  match: string;
  action: 'plain' | 'reject';
  note?: string;
  reason?: string;
}) => call('POST', '/policy', policyRuleAnswer, rule);
export const removeRule = (match: string) => call('POST', '/policy/remove', contract.okAnswer, { match });
export const explain = (from: string, to: string) =>
  call('POST', '/policy/explain', policy.explainAnswer, { from, to });

export const queueList = (view: string, page: number) =>
  call('GET', `/queue?view=${encodeURIComponent(view)}&page=${page}`, queue.queueAnswer);
export const retry = (id: string) =>
  call('POST', `/queue/${encodeURIComponent(id)}/retry`, contract.okAnswer);
export const cancel = (id: string) => call('POST', `/queue/${encodeURIComponent(id)}/cancel`, cancelAnswer);

export function auditSearch(filter: Record<string, string>, page: number): string {
  const q = new URLSearchParams({ ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v)) });
  q.set('page', String(page));
  return q.toString();
}
export const auditList = (query: string) => call('GET', `/audit?${query}`, audit.auditAnswer);

/** The CSV of the same filter, as a file download (the session header is needed, so fetched, not linked). */
export async function auditCsv(query: string): Promise<Blob> {
  const res = await fetch(`/api/console/audit.csv?${query}`, {
    headers: sessionHeader(),
    credentials: 'same-origin',
  });
  if (!res.ok) throw new ApiError(res.status, 'CON_INTERNAL');
  return res.blob();
}

export const settingsShow = () => call('GET', '/settings', settings.settingsAnswer);
type SettingKey = z.infer<typeof settings.editableSettingKey>;
export const settingSet = (key: SettingKey, value: string) =>
  call('POST', '/settings', settings.settingAnswer, { key, value });
export const settingReset = (key: SettingKey) =>
  call('POST', '/settings/reset', settings.settingAnswer, { key });
