/** The one shape of an error that crosses contexts or is kept on a job: a stable code and words. */
import { z } from 'zod';
import { ProviderIdSchema } from './ids';

export const WireErrorSchema = z.object({
  code: z.string().max(40),
  message: z.string().max(4000),
  /** The public page's site that was refused a local address: the user may allow it (settings). */
  privateNetworkSite: z.string().max(253).optional(),
});
export type WireError = z.infer<typeof WireErrorSchema>;

/** One provider's turn at a job: `error` null means it is the one that worked. */
export const AttemptSchema = z.object({ provider: ProviderIdSchema, error: WireErrorSchema.nullable() });
export type Attempt = z.infer<typeof AttemptSchema>;
