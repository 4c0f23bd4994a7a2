import type { DestinationType, StreamType } from './destination.js';
import { datadog } from './datadog.js';
import { genericHttps } from './generic-https.js';
import { gcs } from './gcs.js';
import { s3 } from './s3.js';
import { azureSentinel } from './sentinel.js';
import { splunk } from './splunk.js';
import { syslog } from './syslog.js';

/** Every destination type Verity can stream to. A new destination is one file and one line here. */
const TYPES: readonly DestinationType<never>[] = [genericHttps, s3, gcs, datadog, splunk, azureSentinel, syslog];

export function destinationTypes(): readonly DestinationType<never>[] {
  return TYPES;
}

export function destinationType(type: string): DestinationType<Record<string, unknown>> | undefined {
  const found = TYPES.find((candidate) => candidate.type === type);
  // Each type's create() takes its own config type; callers hand it a config its schema has validated.
  return found;
}

export function isStreamType(value: string): value is StreamType {
  return TYPES.some((candidate) => candidate.type === value);
}
