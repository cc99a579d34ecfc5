export {
  type AlertDispatcher,
  type AlertDispatcherOptions,
  createAlertDispatcher,
  createEmailTransport,
  type EmailTransport,
} from './alerts';
export { type Config, ConfigError, type Env, loadConfig, type Role } from './config';
export {
  createWorker,
  DEFAULT_LEASE_MS,
  type Worker,
  type WorkerEvent,
  type WorkerOptions,
} from './delivery/worker';
export {
  ENCRYPTION_KEY_FILE,
  GATEWAY_VERSION,
  type RunningGateway,
  type StartGatewayOptions,
  startGateway,
} from './main';
