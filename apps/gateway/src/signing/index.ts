export {
  type GeneratedSecret,
  generateEndpointSecret,
  type SigningAlgorithm,
  secretHint,
  signingAlgorithmOf,
} from './secrets';
export {
  createSigner,
  type EndpointKeys,
  liveKeys,
  type SignatureHeaders,
  type Signer,
  type SignInput,
  signWebhook,
} from './signer';
