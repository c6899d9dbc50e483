/**
 * The us-east-1 rates of AWS-FACTS.md, written out by hand for the tests that work their
 * expected figures by hand. Deliberately not the production price book
 * (functions/domain/pricing/price-book.ts): a wrong rate there must not also be the
 * expectation here.
 */
import type { RegionPrices } from '../../functions/domain/pricing/price-book.js';

export const US_EAST_1_PRICES: RegionPrices = {
  x86_64: { lambdaGbSecond: 0.0000166667, lambdaRequest: 0.0000002, lambdaStorageGbSecond: 0.0000000309, fargateVcpuHour: 0.04048, fargateGbHour: 0.004445, fargateStorageGbHour: 0.000111 },
  arm64: { lambdaGbSecond: 0.0000133334, lambdaRequest: 0.0000002, lambdaStorageGbSecond: 0.0000000309, fargateVcpuHour: 0.03238, fargateGbHour: 0.00356, fargateStorageGbHour: 0.000111 },
  stateTransition: 0.000025,
  s3WriteRequest: 0.000005,
  s3ReadRequest: 0.0000004,
  fargateSpotDiscount: 0.7,
  cloudWatchLogsIngestGb: 0.5,
  publicIpv4Hour: 0.005,
};
