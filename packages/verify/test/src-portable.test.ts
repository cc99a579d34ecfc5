// The portable build (its own SHA-256, @noble/curves) from source.
import * as ed25519 from '../src/ed25519';
import * as portable from '../src/index';
import { defineEd25519Suite, defineVerifySuite } from './suite';

defineVerifySuite('src/index.ts', portable);
defineVerifySuite('src/ed25519.ts', ed25519, { entry: 'ed25519' });
defineEd25519Suite('src/ed25519.ts', ed25519);
