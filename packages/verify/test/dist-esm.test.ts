// The built ES modules in dist/ (root `pnpm test` builds before running vitest).
import { importDist } from './helpers';
import { defineEd25519Suite, defineVerifySuite } from './suite';
import type { Ed25519Module, VerifyModule } from './types';

const node = await importDist<VerifyModule>('node.js');
const portable = await importDist<VerifyModule>('index.js');
const ed25519Node = await importDist<Ed25519Module>('ed25519-node.js');
const ed25519 = await importDist<Ed25519Module>('ed25519.js');

defineVerifySuite('dist/node.js (ESM)', node);
defineVerifySuite('dist/index.js (ESM)', portable);
defineVerifySuite('dist/ed25519-node.js (ESM)', ed25519Node, { entry: 'ed25519' });
defineEd25519Suite('dist/ed25519-node.js (ESM)', ed25519Node);
defineVerifySuite('dist/ed25519.js (ESM)', ed25519, { entry: 'ed25519' });
defineEd25519Suite('dist/ed25519.js (ESM)', ed25519);
