// How an API key's secret is turned into what is stored and sent over the bus (VerifyKeyRequest.secret_sha256):
// the gateway hashes what a caller sends, the orchestrator hashes what it creates, and the two must agree.
import { createHash } from 'node:crypto';

/** SHA-256 of a secret (UTF-8). Secrets are long and random, so a slow password hash would add nothing. */
export const secretDigest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();
