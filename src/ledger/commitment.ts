import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A salted commitment to a free text (a decline's reason, a concern's summary, a feedback text): the
 * ledger, which can be neither corrected nor erased, keeps only the commitment; the text and its salt
 * stay in the record. With both, anyone can check the text is the one committed; without the salt, the
 * commitment reveals nothing, not even for a short or guessable text.
 *
 *   commitment = hex SHA-256( salt ‖ UTF-8(text) ), salt = 32 random bytes, stored as 64 hex characters
 *
 * docs/ledger.md "Free text" shows how to check one by hand with nothing but Node.
 */
export interface Committed {
  text: string;
  salt: string;
  commitment: string;
}

export function commitmentOf(text: string, salt: string): string {
  return createHash('sha256').update(Buffer.from(salt, 'hex')).update(text, 'utf8').digest('hex');
}

export function commitText(text: string): Committed {
  const salt = randomBytes(32).toString('hex');
  return { text, salt, commitment: commitmentOf(text, salt) };
}

/** Whether a text and salt are the ones a commitment was made of. */
export function commitmentMatches(text: string, salt: string, commitment: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(salt) || !/^[0-9a-f]{64}$/.test(commitment)) return false;
  return timingSafeEqual(Buffer.from(commitmentOf(text, salt), 'hex'), Buffer.from(commitment, 'hex'));
}
