/**
 * How long a Fargate task spends before its containers start, for the local farm, which pulls
 * no image: Fargate bills "from the time you start to download your container image until the
 * task terminates" (https://aws.amazon.com/fargate/pricing/), so a local run's cost would leave
 * that start-up out. A model, not a measurement, and the report marks it `estimated`:
 *
 *   pull ms = fixed start (ENI attachment and task placement) + image bytes / throughput
 *
 * Figures: about 10 s for the ENI and placement in awsvpc mode, and a few tens of MiB/s from ECR
 * for an uncached image (Fargate keeps no image cache; AWS's "Optimize Amazon ECS task launch
 * time" and published measurements, e.g. a 413 MB image started in 53-62 s through a NAT). The
 * image sizes are the compressed sizes of the farm's default images; an image the model does not
 * know counts as `unknownImageBytes`. On AWS the task's own PullStartedAt is used instead.
 */
import { DEFAULT_HELPER_IMAGE, DEFAULT_STAGE_IMAGE } from './layout.js';

const MiB = 1024 * 1024;

export interface PullModel {
  fixedStartMs: number;
  bytesPerSecond: number;
  imageBytes: Record<string, number>;
  unknownImageBytes: number;
}

export const LOCAL_PULL_MODEL: PullModel = {
  fixedStartMs: 10_000,
  bytesPerSecond: 25 * MiB,
  imageBytes: {
    [DEFAULT_HELPER_IMAGE]: 75 * MiB,
    [DEFAULT_STAGE_IMAGE]: 130 * MiB,
  },
  unknownImageBytes: 300 * MiB,
};

/** The modelled time from PullStartedAt to the containers' start, for a task running these images. */
export function modelledPullMs(images: readonly string[], model: PullModel = LOCAL_PULL_MODEL): number {
  const unique = [...new Set(images)];
  const bytes = unique.reduce((sum, image) => sum + (model.imageBytes[image] ?? model.unknownImageBytes), 0);
  return Math.round(model.fixedStartMs + (bytes / model.bytesPerSecond) * 1000);
}
