// The Node build (node:crypto) from source.
import * as ed25519 from '../src/ed25519-node';
import * as node from '../src/node';
import { defineEd25519Suite, defineVerifySuite } from './suite';

defineVerifySuite('src/node.ts', node);
defineVerifySuite('src/ed25519-node.ts', ed25519, { entry: 'ed25519' });
defineEd25519Suite('src/ed25519-node.ts', ed25519);
