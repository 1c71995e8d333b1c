/** Everything the demo site serves under /media/, made (once, cached) with ffmpeg. */
import { dashFixture } from '../fixtures/dash';
import { sampleMp4 } from '../fixtures/ffmpeg';

export interface DemoMedia {
  /** name under /media/ -> file on disk */
  files: Record<string, string>;
  sample: string;
  dash: Awaited<ReturnType<typeof dashFixture>>;
}

export async function demoMedia(): Promise<DemoMedia> {
  const [sample, dash] = await Promise.all([sampleMp4(), dashFixture()]);
  const files: Record<string, string> = { 'sample.mp4': sample };
  for (const [name, path] of Object.entries(dash.files)) files[`dash/${name}`] = path;
  return { files, sample, dash };
}
