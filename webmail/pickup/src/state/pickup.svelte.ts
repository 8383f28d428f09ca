import * as z from 'zod/mini';
import * as api from '../lib/api.ts';
import { fromBase64, toBase64, wipe } from '../lib/bytes.ts';
import { checkCode, MIN_PASSPHRASE, charLength, normalisePassphrase } from '../lib/code.ts';
import { derive } from '../lib/derive.ts';
import { DownloadUrls } from '../lib/downloads.ts';
import { unlockPrivateKey } from '../lib/lock.ts';
import { verdict, type Verdict } from '../lib/verdict.ts';
import type * as Heavy from '../lib/heavy.ts';

/**
 * The state of one pickup page: what the server said about the link, the unlock, the decrypted inbox.
 * Decrypted objects (the private key, plaintexts, attachments, Blob URLs) live only here and are dropped
 * by `end()`: on logout, on pagehide, and when the session expires.
 */
export type View =
  | 'loading'
  | 'notfound'
  | 'expired'
  | 'withdrawn'
  | 'locked'
  | 'unreadable'
  | 'error'
  | 'code'
  | 'inbox'
  | 'ended'
  | 'loggedout';

export type Problem =
  | { kind: 'empty' | 'short' | 'rate' | 'network' | 'failed' | 'key' }
  | { kind: 'length'; length: number }
  | { kind: 'character'; characters: string }
  | { kind: 'bad'; attemptsLeft: number };

export interface Item {
  info: api.MessageInfo;
  state: 'pending' | 'ready' | 'tampered' | 'stale' | 'failed';
  message?: Heavy.ReadMessage;
  /** The signature judged against the message's From (lib/verdict.ts). */
  verdict?: Verdict;
}

/** A reply the client sent in this session, shown under the message it answers. */
export interface SentReply {
  text: string;
  files: string[];
  /** When it was sent, ms since the epoch. */
  at: number;
}

export interface Contact {
  id: string;
  address: string;
  fingerprint: string;
  secretKind: 'code' | 'passphrase';
}

const loadHeavy = () => import('../lib/heavy.ts');
/** Timing marks of the unlock (`sealpost:<step>`), read by bench/pickup.ts; nothing else looks at them. */
const mark = (step: string) => performance.mark(`sealpost:${step}`);

export class PickupState {
  view = $state<View>('loading');
  meta = $state.raw<api.Meta | undefined>();
  busy = $state<'' | 'deriving' | 'checking' | 'decrypting'>('');
  problem = $state.raw<Problem | undefined>();
  contact = $state.raw<Contact | undefined>();
  items = $state.raw<Item[]>([]);
  selected = $state<string | undefined>();
  /** Replies sent in this session, per message id; dropped by end() with every other plaintext. */
  sent = $state.raw<Record<string, SentReply[]>>({});
  /** The name the client gave for their replies' From, remembered for the session. */
  replyName = $state('');

  readonly id: string | undefined;
  #key: Heavy.PrivateKey | undefined;
  #keyBytes: Uint8Array | undefined;
  #senders: Heavy.SenderKey[] = [];
  #heavy: typeof Heavy | undefined;
  #downloads = new DownloadUrls();
  #idleMs = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(pathname: string) {
    this.id = /^\/p\/([A-Za-z0-9_-]{22})\/?$/.exec(pathname)?.[1];
  }

  async load(): Promise<void> {
    if (!this.id) return void (this.view = 'notfound');
    this.view = 'loading';
    const res = await api.get(`/${this.id}`, api.metaSchema);
    if (!res.ok) {
      this.view = gone(res) ?? (res.status === 404 ? 'notfound' : 'error');
      return;
    }
    this.meta = res.data;
    if (!res.data.readable) this.view = 'unreadable';
    else if (res.data.contact.locked) this.view = 'locked';
    else this.view = 'code';
  }

  /** Check what was typed, derive, unlock; on success the inbox opens and messages decrypt one by one. */
  async unlock(typed: string): Promise<void> {
    const meta = this.meta;
    if (!meta || this.busy) return;
    const secret = this.#secret(typed, meta.contact.secretKind);
    if (!secret) return;
    this.problem = undefined;
    performance.clearMarks('sealpost:message');
    mark('submit');
    this.busy = 'deriving';
    const heavy = loadHeavy(); // fetched while Argon2id runs
    heavy.catch(() => undefined);
    let keys;
    try {
      keys = await derive(secret, meta.contact.kdf);
    } catch {
      return this.#fail({ kind: 'failed' });
    }
    mark('derived');
    this.busy = 'checking';
    const res = await api.post(
      `/${meta.id}/unlock`,
      { authKey: toBase64(keys.authKey) } satisfies api.UnlockRequest,
      api.unlockSchema,
    );
    wipe(keys.authKey);
    if (!res.ok) {
      wipe(keys.lockKey);
      return this.#unlockFailed(res);
    }
    mark('unlocked');
    this.busy = 'decrypting';
    try {
      this.#heavy = await heavy;
      const c = res.data.contact;
      const bytes = await unlockPrivateKey(fromBase64(c.lockedPrivateKey), keys.lockKey, c.id);
      const key = await this.#heavy.readContactKey(bytes);
      if (key.getFingerprint().toUpperCase() !== c.fingerprint.toUpperCase()) throw new Error('fingerprint');
      this.#key = key;
      this.#keyBytes = bytes;
    } catch {
      return this.#fail({ kind: 'key' });
    } finally {
      wipe(keys.lockKey);
    }
    mark('key');
    api.useSessionKey(res.data.session.key);
    this.#idleMs = Math.max(60_000, Date.parse(res.data.session.expiresAt) - Date.now());
    this.#touch();
    await this.#openInbox();
  }

  #secret(typed: string, kind: 'code' | 'passphrase'): string | undefined {
    if (kind === 'passphrase') {
      const p = normalisePassphrase(typed);
      if (charLength(p) < MIN_PASSPHRASE) this.problem = { kind: p ? 'short' : 'empty' };
      return charLength(p) < MIN_PASSPHRASE ? undefined : p;
    }
    const check = checkCode(typed);
    if (check.ok) return check.code;
    this.problem =
      check.problem === 'empty'
        ? { kind: 'empty' }
        : check.problem === 'length'
          ? { kind: 'length', length: check.length }
          : { kind: 'character', characters: check.characters };
    return undefined;
  }

  #fail(problem: Problem): void {
    this.busy = '';
    this.problem = problem;
  }

  #unlockFailed(res: { status: number; code: string; attemptsLeft?: number }): void {
    this.busy = '';
    if (res.status === 423) this.view = 'locked';
    else if (res.status === 410) this.view = gone(res) ?? 'expired';
    else if (res.status === 401) this.problem = { kind: 'bad', attemptsLeft: res.attemptsLeft ?? 0 };
    else if (res.status === 429) this.problem = { kind: 'rate' };
    else if (res.status === 0) this.problem = { kind: 'network' };
    else this.problem = { kind: 'failed' };
  }

  async #openInbox(): Promise<void> {
    // The linked message is fetched with the lists: one round trip less before the first text shows.
    const linked = this.id ? this.sessionBytes(`/session/messages/${this.id}`) : undefined;
    const [session, list, senders] = await Promise.all([
      this.sessionGet('/session', api.sessionSchema),
      this.sessionGet('/session/messages', api.messagesSchema),
      this.sessionGet('/session/senders', api.sendersSchema),
    ]);
    if (!session || !list || !senders || !this.#heavy) {
      this.end('ended'); // drops the key; the page stays at the code entry with the problem shown
      return this.#fail({ kind: 'failed' });
    }
    this.#senders = await this.#heavy.readSenderKeys(
      senders.senders.map((s) => ({ ...s, active: s.active ?? true })),
    );
    this.contact = session.contact;
    this.items = list.messages.map((info) => ({ info, state: info.readable ? 'pending' : 'stale' }));
    this.selected = this.items.some((i) => i.info.id === this.id) ? this.id : this.items[0]?.info.id;
    this.busy = '';
    mark('inbox');
    this.view = 'inbox';
    // The linked message first, then the rest, one at a time (memory: one ciphertext in flight).
    const first = this.items.filter((i) => i.info.id === this.selected);
    const order = [...first, ...this.items.filter((i) => i.info.id !== this.selected)];
    for (const item of order) {
      if (this.view !== 'inbox') return;
      const prefetched = item.info.id === this.id ? linked : undefined;
      if (item.state === 'pending') await this.#decrypt(item.info.id, prefetched);
    }
    await this.#loadReplies();
  }

  /** The contact's own earlier replies, each opened with their key, shown under the message they answer. */
  async #loadReplies(): Promise<void> {
    const list = await this.sessionGet('/session/replies', api.ownRepliesSchema);
    for (const r of list?.replies ?? []) {
      if (this.view !== 'inbox' || !this.#key || !this.#heavy) return;
      const bytes = await this.sessionBytes(`/session/replies/${encodeURIComponent(r.id)}`);
      if (!bytes || !this.#key) continue;
      let data: Uint8Array | undefined;
      try {
        data = await this.#heavy.decryptOwnReply(bytes, this.#key);
        const m = await this.#heavy.readMime(data);
        if (this.view !== 'inbox') return;
        const files = m.attachments.map((a) => a.name);
        this.addSent(r.inReplyTo, { text: m.text ?? '', files, at: Date.parse(r.createdAt) });
      } catch {
        // Not readable with this key or not signed by it: not shown (nothing of it is kept).
      } finally {
        if (data) wipe(data);
      }
    }
  }

  async #decrypt(id: string, prefetched?: Promise<Uint8Array | undefined>): Promise<void> {
    const bytes = await (prefetched ?? this.sessionBytes(`/session/messages/${encodeURIComponent(id)}`));
    if (!bytes || !this.#key || !this.#heavy) return this.#update(id, { state: 'failed' });
    const heavy = this.#heavy;
    let opened;
    try {
      opened = await heavy.decryptMessage(bytes, this.#key, this.#senders);
    } catch {
      return this.#update(id, { state: 'tampered' }); // nothing of it is kept or shown
    }
    try {
      const message = await heavy.readMime(opened.data);
      const info = this.items.find((i) => i.info.id === id)?.info;
      const from = message.from?.address ?? info?.sender.address ?? '';
      this.#update(id, { state: 'ready', message, verdict: verdict(opened.signature, from) });
      mark('message');
    } catch {
      this.#update(id, { state: 'failed' });
    } finally {
      wipe(opened.data);
    }
  }

  #update(id: string, patch: Partial<Item>): void {
    if (this.view !== 'inbox') return; // ended meanwhile: keep nothing
    this.items = this.items.map((i) => (i.info.id === id ? { ...i, ...patch } : i));
  }

  get current(): Item | undefined {
    return this.items.find((i) => i.info.id === this.selected);
  }

  get heavy(): typeof Heavy | undefined {
    return this.#heavy;
  }

  get privateKey(): Heavy.PrivateKey | undefined {
    return this.#key;
  }

  get privateKeyBytes(): Uint8Array | undefined {
    return this.#keyBytes;
  }

  senderKeyFor(address: string): Heavy.SenderKey | undefined {
    const all = this.#senders.filter((s) => s.address.toLowerCase() === address.toLowerCase());
    return all.find((s) => s.active) ?? all[0];
  }

  select(id: string | undefined): void {
    this.#downloads.revokeAll();
    this.selected = id;
  }

  /** A Blob URL to download an attachment (lib/downloads.ts); revoked when another message opens, and by end(). */
  downloadUrl(bytes: Uint8Array): string {
    return this.#downloads.create(bytes);
  }

  #touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.end('ended'), this.#idleMs);
  }

  /** A session request: 401 ends the session here too; success restarts the idle clock. */
  async sessionGet<T>(path: string, schema: z.ZodMiniType<T>): Promise<T | undefined> {
    return this.#session(await api.get(path, schema));
  }

  async sessionPost<T>(path: string, body: unknown, schema: z.ZodMiniType<T>): Promise<api.Answer<T>> {
    const res = await api.post(path, body, schema);
    this.#session(res);
    return res;
  }

  async sessionBytes(path: string): Promise<Uint8Array | undefined> {
    return this.#session(await api.getBytes(path));
  }

  #session<T>(res: api.Answer<T>): T | undefined {
    if (res.ok) {
      this.#touch();
      return res.data;
    }
    if (res.status === 401 && res.code === 'PU_NO_SESSION') this.end('ended');
    return undefined;
  }

  async logout(): Promise<void> {
    await api.post('/session/logout', {}, api.okSchema);
    this.end('loggedout');
  }

  /** Drop every decrypted object: keys wiped, Blob URLs revoked, plaintexts released, DOM re-rendered empty. */
  end(view: 'ended' | 'loggedout'): void {
    clearTimeout(this.#idleTimer);
    api.useSessionKey(undefined);
    this.#downloads.revokeAll();
    wipe(this.#keyBytes);
    this.#keyBytes = undefined;
    this.#key = undefined;
    this.#senders = [];
    this.items = [];
    this.sent = {};
    this.replyName = '';
    this.selected = undefined;
    this.contact = undefined;
    this.busy = '';
    this.problem = undefined;
    if (this.view === 'inbox') this.view = view;
  }

  addSent(id: string, reply: SentReply): void {
    this.sent = { ...this.sent, [id]: [...(this.sent[id] ?? []), reply] };
  }

  /** After a new passphrase: the code entry asks for it, with its new salt, from now on. */
  secretChanged(kdf: api.Kdf): void {
    if (this.contact) this.contact = { ...this.contact, secretKind: 'passphrase' };
    if (this.meta)
      this.meta = { ...this.meta, contact: { ...this.meta.contact, secretKind: 'passphrase', kdf } };
  }
}

/** A 410: withdrawn by the sender, or expired. */
function gone(res: { status: number; code: string }): View | undefined {
  if (res.status !== 410) return undefined;
  return res.code === 'PU_WITHDRAWN' ? 'withdrawn' : 'expired';
}
