export { createGateway, type Gateway, type GatewayDeps } from './server.ts';
export { AuthLimiter, type AuthLimitOptions } from '../core/auth-limit.ts';
