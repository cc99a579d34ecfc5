// The built CommonJS files in dist/, loaded with Node's own require (createRequire).
import { requireDist } from './helpers';
import { defineEd25519Suite, defineVerifySuite } from './suite';
import type { Ed25519Module, VerifyModule } from './types';

const node = requireDist<VerifyModule>('node.cjs');
const portable = requireDist<VerifyModule>('index.cjs');
const ed25519Node = requireDist<Ed25519Module>('ed25519-node.cjs');
const ed25519 = requireDist<Ed25519Module>('ed25519.cjs');

defineVerifySuite('dist/node.cjs (CJS)', node);
defineVerifySuite('dist/index.cjs (CJS)', portable);
defineVerifySuite('dist/ed25519-node.cjs (CJS)', ed25519Node, { entry: 'ed25519' });
defineEd25519Suite('dist/ed25519-node.cjs (CJS)', ed25519Node);
defineVerifySuite('dist/ed25519.cjs (CJS)', ed25519, { entry: 'ed25519' });
defineEd25519Suite('dist/ed25519.cjs (CJS)', ed25519);
