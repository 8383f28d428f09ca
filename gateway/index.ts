export { createGateway, type Gateway, type GatewayDeps } from './server.ts';
export {
  evaluate,
  matchRule,
  type PolicyFacts,
  type Verdict,
  type VerdictKind,
  type KeyFact,
} from './policy.ts';
export { AuthLimiter, type AuthLimitOptions } from './auth-limit.ts';
