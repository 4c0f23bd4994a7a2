import { Type, type Static } from 'typebox';
import type { DestinationType } from './destination.js';
import { createObjectStoreDestination, ENDPOINT_PATTERN, KEY_PREFIX_PATTERN } from './s3.js';

export const GCS_DEFAULT_ENDPOINT = 'https://storage.googleapis.com';

export const GcsConfigSchema = Type.Object(
  {
    bucket: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$', description: 'Bucket name: lowercase letters, digits, dots, hyphens and underscores.' }),
    hmac_access_key_id: Type.String({ pattern: '^[^\\s/]{3,128}$', description: 'HMAC key access id (Cloud Storage → Settings → Interoperability).' }),
    hmac_secret: Type.String({ minLength: 8, maxLength: 256 }),
    prefix: Type.Optional(Type.String({ pattern: KEY_PREFIX_PATTERN, description: 'Key prefix; objects go under {prefix}/{organization_id}/.' })),
    endpoint: Type.Optional(Type.String({ format: 'uri', pattern: ENDPOINT_PATTERN, maxLength: 2048, default: GCS_DEFAULT_ENDPOINT, description: 'XML API base URL.' })),
    object_per_event: Type.Optional(Type.Boolean({ default: false, description: 'One JSON object per event (WorkOS layout) instead of gzip NDJSON batches.' })),
  },
  { additionalProperties: false },
);
export type GcsConfig = Static<typeof GcsConfigSchema>;

/**
 * Google Cloud Storage through its S3-interoperable XML API: HMAC keys sign SigV4 like an AWS key pair, so
 * this is the S3 code path with a different config. Region `auto` is what GCS expects in the SigV4 scope,
 * and path-style addressing keeps bucket names with dots valid under Google's TLS certificate.
 */
export const gcs: DestinationType<GcsConfig> = {
  type: 'GoogleCloudStorage',
  label: 'Google Cloud Storage',
  configSchema: GcsConfigSchema,
  secretFields: ['hmac_secret'],
  secretsBoundTo: ['endpoint'],
  create(config, { allowPrivate, http }) {
    return createObjectStoreDestination(
      {
        service: 'Google Cloud Storage',
        credentialFields: 'hmac_access_key_id and hmac_secret',
        bucket: config.bucket,
        region: 'auto',
        prefix: config.prefix,
        accessKeyId: config.hmac_access_key_id,
        secretAccessKey: config.hmac_secret,
        endpoint: config.endpoint ?? GCS_DEFAULT_ENDPOINT,
        forcePathStyle: true,
        objectPerEvent: config.object_per_event ?? false,
        timeoutMs: http.timeoutMs,
      },
      { allowPrivate },
    );
  },
};
