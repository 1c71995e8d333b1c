/**
 * When a download gives up rather than hang (issue: time limits that end): the low-speed limit
 * (curl's --speed-limit / --speed-time) and the total time without data. Settings on the options
 * page, flags in the CLI, carried to the engine in the job spec.
 */
import { z } from 'zod';

export const TransferLimitsSchema = z.object({
  /** Slower than this on average over `lowSpeedSeconds` counts as stalled; 0 turns it off. */
  lowSpeedBytesPerSecond: z.number().int().min(0).max(100_000_000).default(1000),
  lowSpeedSeconds: z.number().int().min(1).max(600).default(30),
  /** A server or API that sends nothing for this long in all is given up. */
  giveUpSeconds: z.number().int().min(10).max(3600).default(90),
});
export type TransferLimits = z.infer<typeof TransferLimitsSchema>;
export const DEFAULT_LIMITS: TransferLimits = TransferLimitsSchema.parse({});
