export {
  type AlertDispatcher,
  type AlertDispatcherOptions,
  createAlertDispatcher,
  DEFAULT_ALERT_INTERVAL_MS,
  DEFAULT_ALERT_RETRY_SCHEDULE,
  type EmailChannel,
  type OperationalWebhookChannel,
  type SlackChannel,
} from './dispatcher';
export {
  createEmailTransport,
  describeEmailError,
  type EmailMessage,
  type EmailResult,
  type EmailTransport,
  type EmailTransportOptions,
} from './email';
export { ALERT_PORTAL_LINK_TTL_MS, type AlertPortalLink, mintAlertPortalLink } from './portal-link';
export {
  type AlertView,
  displayUrl,
  foldedLine,
  humanDuration,
  operationalWebhookBody,
  type PortalLinkView,
  type RenderedEmail,
  renderEmail,
  renderSlack,
  type SlackMessage,
  viewOf,
} from './render';
