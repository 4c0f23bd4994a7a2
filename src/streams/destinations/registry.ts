import type { DestinationType, StreamType } from './destination.js';
import { genericHttps } from './generic-https.js';

/** Every destination type Verity can stream to. A new destination is one file and one line here. */
const TYPES: readonly DestinationType<never>[] = [genericHttps] as unknown as DestinationType<never>[];

export function destinationTypes(): readonly DestinationType<never>[] {
  return TYPES;
}

export function destinationType(type: string): DestinationType<Record<string, unknown>> | undefined {
  return TYPES.find((candidate) => candidate.type === type) as DestinationType<Record<string, unknown>> | undefined;
}

export function isStreamType(value: string): value is StreamType {
  return TYPES.some((candidate) => candidate.type === value);
}
