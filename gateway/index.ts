export { createGateway, type Gateway, type GatewayDeps } from './server.ts';
export { AuthLimiter, type AuthLimitSettings } from '../core/auth-limit.ts';
