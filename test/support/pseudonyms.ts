import { randomBytes } from 'node:crypto';
import { Pseudonyms } from '../../lambda/shared/platform/pseudonym.js';

/** A pseudonym key for domain functions called directly by tests (handlers load theirs). */
const pseudonyms = new Pseudonyms(randomBytes(32));
export const testPseudonyms = async () => pseudonyms;
