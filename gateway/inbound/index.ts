export { createInbound, type Inbound, type InboundDeps } from './server.ts';
export type { Relay } from './relay.ts';
export type { DnsResolver } from './dkim.ts';
