// The real gateway, in process, on embedded PGlite in a fresh temp directory, allowed to deliver
// to loopback receivers over plain HTTP (as its own end-to-end tests run it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '@hookline/gateway';

export interface EmbeddedGateway {
  url: string;
  apiKey: string;
  stop(): Promise<void>;
}

export async function startEmbeddedGateway(): Promise<EmbeddedGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-sdk-'));
  try {
    const gateway = await startGateway({
      env: {
        HOOKLINE_DATA_DIR: dataDir,
        HOOKLINE_HOST: '127.0.0.1',
        HOOKLINE_PORT: '0',
        HOOKLINE_ALLOW_NETWORKS: '127.0.0.0/8,::1/128',
        HOOKLINE_ALLOW_HTTP: 'true',
        HOOKLINE_LOG_LEVEL: 'silent',
      },
      printBanner: false,
    });
    if (!gateway.url || !gateway.apiKey) {
      await gateway.stop({ graceMs: 0 });
      throw new Error('The embedded gateway did not start with a URL and a generated API key.');
    }
    return {
      url: gateway.url,
      apiKey: gateway.apiKey,
      stop: async () => {
        await gateway.stop({ graceMs: 1_000 });
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
