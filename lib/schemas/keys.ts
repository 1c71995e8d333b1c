/** What a valid API key looks like (storage: lib/platform/key-store.ts; display: lib/keys.ts). */
import { z } from 'zod';

export const ApiKeySchema = z
  .string()
  .trim()
  .min(8, 'That key is too short.')
  .max(512, 'That key is too long.')
  .regex(/^[\x21-\x7e]+$/, 'A key has no spaces or special characters.');
