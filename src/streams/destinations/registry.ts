import type { DestinationType, StreamType } from './destination.js';
import { datadog } from './datadog.js';
import { genericHttps } from './generic-https.js';
import { gcs } from './gcs.js';
import { s3 } from './s3.js';
import { splunk } from './splunk.js';

/** Every destination type Verity can stream to. A new destination is one file and one line here. */
const TYPES: readonly DestinationType<never>[] = [genericHttps, s3, gcs, datadog, splunk];

export function destinationTypes(): readonly DestinationType<never>[] {
  return TYPES;
}

export function destinationType(type: string): DestinationType<Record<string, unknown>> | undefined {
  return TYPES.find((candidate) => candidate.type === type) as DestinationType<Record<string, unknown>> | undefined;
}

export function isStreamType(value: string): value is StreamType {
  return TYPES.some((candidate) => candidate.type === value);
}
