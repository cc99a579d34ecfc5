export { type ApiCorsOptions, apiCors } from './cors';
export {
  findPortalDirectory,
  type HostedPortalOptions,
  hostedPortalRoutes,
  PORTAL_CSP,
} from './router';
