import { version } from '../package.json';

/** This SDK's version (sent as `user-agent: hookline-sdk-js/<version>`). */
export const SDK_VERSION: string = version;
