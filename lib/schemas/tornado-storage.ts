/**
 * The user's own storage for Tornado (providers.md 3.5), sent inline with each job. A schema of its
 * own because three layers check the same object: the options page, the key store that keeps it
 * (a secret, like the keys) and the Tornado client that sends it.
 */
import { z } from 'zod';

const nonEmpty = z.string().trim().min(1);
const storagePath = z
  .string()
  .max(200)
  .refine((s) => !s.includes('..') && !/^[/\\]/.test(s), 'must not contain ".." or start with "/"');
const storageCommon = { folder_prefix: storagePath.optional(), base_folder: storagePath.optional() };

export const TornadoStorageSchema = z
  .discriminatedUnion('provider', [
    z.object({ provider: z.literal('s3'), endpoint: nonEmpty, bucket: nonEmpty, region: nonEmpty, access_key: nonEmpty, secret_key: nonEmpty, ...storageCommon }),
    z.object({ provider: z.literal('blob'), account_name: nonEmpty, container: nonEmpty, account_key: nonEmpty.optional(), sas_token: nonEmpty.optional(), ...storageCommon }),
    z.object({ provider: z.literal('gcs'), project_id: nonEmpty, bucket: nonEmpty, service_account_json: nonEmpty, ...storageCommon }),
    z.object({ provider: z.literal('oss'), endpoint: nonEmpty, bucket: nonEmpty, access_key_id: nonEmpty, access_key_secret: nonEmpty, ...storageCommon }),
  ])
  .superRefine((s, ctx) => {
    if (s.provider === 'blob' && (s.account_key === undefined) === (s.sas_token === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['account_key'], message: 'Give either an account key or a SAS token, not both.' });
    }
    if (s.provider === 'gcs') {
      try {
        const parsed: unknown = JSON.parse(s.service_account_json);
        if (!parsed || typeof parsed !== 'object') throw new Error('not an object');
      } catch {
        ctx.addIssue({ code: 'custom', path: ['service_account_json'], message: 'The service account key must be the JSON key file’s content.' });
      }
    }
  });
export type TornadoStorage = z.infer<typeof TornadoStorageSchema>;
