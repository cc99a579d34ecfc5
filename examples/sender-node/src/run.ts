// `pnpm start`: runs the example against the gateway at HOOKLINE_URL (it starts nothing itself).
import { configFromEnv, main } from './main';

try {
  const summary = await main(configFromEnv(process.env));
  console.log(`done: message ${summary.messageId} is ${summary.deliveryStatus}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
