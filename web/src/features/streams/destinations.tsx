import { Globe, Terminal } from 'lucide-react';
import type { ReactNode } from 'react';
import type { StreamType } from '../../lib/types';

/** One config field, mirroring the destination's TypeBox schema in src/streams/destinations/*.ts. */
export interface FieldSpec {
  name: string;
  label: string;
  kind: 'text' | 'password' | 'select' | 'checkbox' | 'number' | 'textarea' | 'headers';
  required?: boolean;
  secret?: boolean;
  options?: { value: string; label: string }[];
  placeholder?: string;
  hint?: ReactNode;
  /** A hint that depends on the other values (e.g. the chosen body format); wins over `hint`. */
  hintFor?: (values: Record<string, string | boolean>) => ReactNode;
  pattern?: string;
  patternMessage?: string;
  url?: boolean;
  /** Where the saved secrets are sent: a change to it must come with them again (the API refuses otherwise). */
  carriesSecrets?: boolean;
  min?: number;
  max?: number;
  maxLength?: number;
  defaultValue?: string | boolean;
  /** What the API stores when this optional field is left out or removed: a blank field means this value. */
  serverDefault?: string;
  advanced?: boolean;
  /** Offer a "Generate" button (webhook signing secrets). */
  generate?: () => string;
  /** A check beyond the pattern (run after it passes): the message, or undefined when the value is fine. */
  validate?: (value: string) => string | undefined;
}

export interface DestinationSpec {
  type: StreamType;
  label: string;
  description: string;
  logo: { background: string; content: ReactNode };
  fields: FieldSpec[];
  /** Step-by-step setup on the provider's side; `values` lets steps quote what the user typed. */
  instructions: (values: Record<string, string | boolean>) => ReactNode[];
  docs?: string;
}

const GUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const KEY_PREFIX = "^(?!/)(?!.*//)(?!(.*/)?\\.\\.?(/|$))[A-Za-z0-9!_.*'()=/-]{1,512}$";
const ENDPOINT = '^https?://[^\\s/?#@]+(/[^\\s?#@]*)?$';
const PRINTABLE = '^[!-~]{1,256}$';

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** How many bytes a Standard Webhooks secret decodes to, as the server counts them (base64 after an optional whsec_, up to the first "="). */
export function webhookSecretBytes(secret: string): number {
  const body = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const data = body.split('=')[0] ?? '';
  return Math.floor((data.length * 3) / 4);
}

function Code({ children }: { children: string }) {
  return <pre className="code">{children}</pre>;
}

function text(values: Record<string, string | boolean>, key: string, fallback: string): string {
  const value = values[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}

export const DESTINATIONS: DestinationSpec[] = [
  {
    type: 'Datadog',
    label: 'Datadog',
    description: 'Logs intake API',
    logo: { background: '#632ca6', content: 'DD' },
    fields: [
      {
        name: 'site',
        label: 'Datadog site',
        kind: 'select',
        required: true,
        defaultValue: 'US1',
        options: [
          { value: 'US1', label: 'US1 — datadoghq.com' },
          { value: 'US3', label: 'US3 — us3.datadoghq.com' },
          { value: 'US5', label: 'US5 — us5.datadoghq.com' },
          { value: 'EU1', label: 'EU1 — datadoghq.eu' },
          { value: 'AP1', label: 'AP1 — ap1.datadoghq.com' },
          { value: 'AP2', label: 'AP2 — ap2.datadoghq.com' },
          { value: 'UK1', label: 'UK1 — uk1.datadoghq.com' },
          { value: 'US1-FED', label: 'US1-FED — ddog-gov.com' },
          { value: 'US2-FED', label: 'US2-FED — us2.ddog-gov.com' },
        ],
        hint: 'The site in your Datadog URL.',
      },
      { name: 'api_key', label: 'API key', kind: 'password', required: true, secret: true, pattern: PRINTABLE, patternMessage: 'Paste the API key exactly, without spaces.', hint: 'An API key, not an application key.' },
      { name: 'service', label: 'Service', kind: 'text', placeholder: 'audit-logs', maxLength: 100 },
      { name: 'source', label: 'Source', kind: 'text', placeholder: 'verity', maxLength: 100 },
      { name: 'tags', label: 'Tags', kind: 'text', placeholder: 'env:prod,team:security', maxLength: 1000, hint: 'Comma-separated key:value tags.' },
      { name: 'endpoint_url', carriesSecrets: true, label: 'Intake URL override', kind: 'text', url: true, advanced: true, placeholder: 'https://proxy.example.com', hint: 'For a proxy; /api/v2/logs is appended.' },
    ],
    instructions: () => [
      <>
        In Datadog, open <strong>Organization Settings → API Keys</strong>.
      </>,
      <>
        Click <strong>New Key</strong>, name it (for example “Audit logs”) and copy the key.
      </>,
      <>
        Choose the <strong>site</strong> your account lives on — it is in the address bar (datadoghq.com is US1, datadoghq.eu is EU1).
      </>,
      <>
        Events arrive in <strong>Logs</strong> with <code>service:audit-logs</code>; create a saved view or facet on <code>@action</code> to explore them.
      </>,
    ],
  },
  {
    type: 'Splunk',
    label: 'Splunk',
    description: 'HTTP Event Collector',
    logo: { background: '#1a1a1a', content: <span style={{ color: '#65a637' }}>&gt;</span> },
    fields: [
      { name: 'hec_url', carriesSecrets: true, label: 'HEC URL', kind: 'text', required: true, url: true, placeholder: 'https://splunk.example.com:8088', hint: 'The collector’s scheme://host:port.' },
      { name: 'hec_token', label: 'HEC token', kind: 'password', required: true, secret: true, pattern: PRINTABLE, patternMessage: 'Paste the token exactly, without spaces.', placeholder: 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' },
      { name: 'index', label: 'Index', kind: 'text', pattern: '^[a-z0-9_][a-z0-9_-]{0,79}$', patternMessage: 'Lowercase letters, digits, _ and - only.', placeholder: 'audit', hint: 'Must be one of the token’s allowed indexes.' },
      { name: 'source', label: 'Source', kind: 'text', maxLength: 128, placeholder: 'verity' },
      { name: 'sourcetype', label: 'Source type', kind: 'text', maxLength: 128, placeholder: '_json' },
    ],
    instructions: (values) => [
      <>
        In Splunk, go to <strong>Settings → Data inputs → HTTP Event Collector</strong> and make sure HEC is enabled under <strong>Global Settings</strong>.
      </>,
      <>
        Click <strong>New Token</strong>, name it “Audit logs”, and leave indexer acknowledgement off.
      </>,
      <>
        Allow the index <strong>{text(values, 'index', 'audit')}</strong> (create it first if needed), then review and copy the <strong>token value</strong>.
      </>,
      <>
        Your HEC URL is your Splunk host on port <strong>8088</strong> (Splunk Cloud: <code>https://http-inputs-&lt;stack&gt;.splunkcloud.com</code>).
      </>,
    ],
  },
  {
    type: 'S3',
    label: 'Amazon S3',
    description: 'Objects in your bucket',
    logo: { background: '#e25444', content: 'S3' },
    fields: [
      { name: 'bucket', label: 'Bucket', kind: 'text', required: true, pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', patternMessage: '3–63 lowercase letters, digits, dots and hyphens.', placeholder: 'acme-audit-logs' },
      { name: 'region', label: 'Region', kind: 'text', required: true, pattern: '^[a-z0-9-]{2,32}$', patternMessage: 'A region code such as us-east-1.', placeholder: 'us-east-1' },
      { name: 'access_key_id', label: 'Access key ID', kind: 'text', required: true, pattern: '^[^\\s/]{3,128}$', patternMessage: 'An access key id such as AKIA…', placeholder: 'AKIA…' },
      { name: 'secret_access_key', label: 'Secret access key', kind: 'password', required: true, secret: true, pattern: '^[\\s\\S]{8,256}$', patternMessage: 'Between 8 and 256 characters.' },
      { name: 'prefix', label: 'Key prefix', kind: 'text', pattern: KEY_PREFIX, patternMessage: 'A relative path without “..” or empty segments.', placeholder: 'audit-logs', hint: 'Objects go under {prefix}/{organization_id}/.' },
      { name: 'role_arn', label: 'IAM role ARN', kind: 'text', advanced: true, pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$', patternMessage: 'arn:aws:iam::123456789012:role/name', placeholder: 'arn:aws:iam::123456789012:role/verity-writer', hint: 'Assumed with the key before writing.' },
      { name: 'external_id', label: 'External ID', kind: 'text', advanced: true, pattern: '^[A-Za-z0-9+=,.@:/_-]{2,1224}$', patternMessage: 'Letters, digits and +=,.@:/_-', hint: 'Needs an IAM role ARN.' },
      { name: 'endpoint', carriesSecrets: true, label: 'Endpoint', kind: 'text', advanced: true, url: true, pattern: ENDPOINT, patternMessage: 'A base URL such as https://minio.example.com', placeholder: 'https://s3.example.com', hint: 'For MinIO, R2 and other S3-compatible stores.' },
      { name: 'force_path_style', label: 'Path-style addressing', kind: 'checkbox', advanced: true, hint: 'Address buckets as {endpoint}/{bucket}.' },
      { name: 'object_per_event', label: 'One object per event', kind: 'checkbox', advanced: true, hint: 'Instead of gzip NDJSON batches.' },
    ],
    instructions: (values) => {
      const bucket = text(values, 'bucket', 'acme-audit-logs');
      const prefix = text(values, 'prefix', '');
      const resource = `arn:aws:s3:::${bucket}/${prefix ? `${prefix.replace(/\/$/, '')}/` : ''}*`;
      return [
        <>
          In the AWS console, create an S3 bucket (for example <strong>{bucket}</strong>) in your preferred region. Keep “Block all public access” on.
        </>,
        <>
          In <strong>IAM → Policies</strong>, create a policy that only allows writing objects:
          <Code>
            {JSON.stringify(
              { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: resource }] },
              null,
              2,
            )}
          </Code>
        </>,
        <>
          Create an IAM user (or a role to assume) with that policy, then under <strong>Security credentials</strong> create an <strong>access key</strong> and copy both halves.
        </>,
        <>Enter the bucket, region and key below. Objects are written as gzip NDJSON, one per batch.</>,
      ];
    },
  },
  {
    type: 'GoogleCloudStorage',
    label: 'Google Cloud Storage',
    description: 'Objects via HMAC keys',
    logo: { background: '#4285f4', content: 'GCS' },
    fields: [
      { name: 'bucket', label: 'Bucket', kind: 'text', required: true, pattern: '^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$', patternMessage: 'Lowercase letters, digits, dots, hyphens and underscores.', placeholder: 'acme-audit-logs' },
      { name: 'hmac_access_key_id', label: 'HMAC access ID', kind: 'text', required: true, pattern: '^[^\\s/]{3,128}$', patternMessage: 'The access ID shown with the HMAC key.', placeholder: 'GOOG1E…' },
      { name: 'hmac_secret', label: 'HMAC secret', kind: 'password', required: true, secret: true, pattern: '^[\\s\\S]{8,256}$', patternMessage: 'Between 8 and 256 characters.' },
      { name: 'prefix', label: 'Key prefix', kind: 'text', pattern: KEY_PREFIX, patternMessage: 'A relative path without “..” or empty segments.', placeholder: 'audit-logs' },
      {
        name: 'endpoint',
        carriesSecrets: true,
        label: 'Endpoint',
        kind: 'text',
        advanced: true,
        url: true,
        pattern: ENDPOINT,
        patternMessage: 'A base URL',
        placeholder: 'https://storage.googleapis.com',
        serverDefault: 'https://storage.googleapis.com',
      },
      { name: 'object_per_event', label: 'One object per event', kind: 'checkbox', advanced: true },
    ],
    instructions: (values) => [
      <>
        In Google Cloud console, create a bucket (for example <strong>{text(values, 'bucket', 'acme-audit-logs')}</strong>) in <strong>Cloud Storage → Buckets</strong>.
      </>,
      <>
        Create a service account and grant it <strong>Storage Object Creator</strong> on the bucket.
      </>,
      <>
        Open <strong>Cloud Storage → Settings → Interoperability</strong>, and under <strong>Service account HMAC</strong> click <strong>Create a key</strong> for that service account.
      </>,
      <>Copy the access ID and the secret (the secret is shown only once) into the form.</>,
    ],
  },
  {
    type: 'AzureSentinel',
    label: 'Microsoft Sentinel',
    description: 'Logs Ingestion API',
    logo: { background: '#0078d4', content: 'MS' },
    fields: [
      { name: 'tenant_id', label: 'Directory (tenant) ID', kind: 'text', required: true, pattern: '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$', patternMessage: 'A tenant GUID or domain.', placeholder: '00000000-0000-0000-0000-000000000000' },
      { name: 'client_id', label: 'Application (client) ID', kind: 'text', required: true, pattern: GUID, patternMessage: 'A GUID like 00000000-0000-0000-0000-000000000000.' },
      { name: 'client_secret', label: 'Client secret', kind: 'password', required: true, secret: true, maxLength: 1024, hint: 'The secret’s value, not its ID.' },
      { name: 'ingestion_endpoint', carriesSecrets: true, label: 'Ingestion endpoint', kind: 'text', required: true, url: true, placeholder: 'https://my-dce-abcd.eastus-1.ingest.monitor.azure.com', hint: 'The DCE (or DCR) logs ingestion URL.' },
      { name: 'dcr_immutable_id', label: 'DCR immutable ID', kind: 'text', required: true, pattern: '^dcr-[0-9a-fA-F]{32}$', patternMessage: 'dcr- followed by 32 hex characters.', placeholder: 'dcr-0123456789abcdef0123456789abcdef' },
      { name: 'stream_name', label: 'Stream name', kind: 'text', required: true, pattern: '^(Custom|Microsoft)-[A-Za-z0-9_]{1,200}$', patternMessage: 'Custom-<Table>_CL', placeholder: 'Custom-VerityAudit_CL' },
      {
        name: 'authority_url',
        carriesSecrets: true,
        label: 'Authority URL',
        kind: 'text',
        advanced: true,
        url: true,
        placeholder: 'https://login.microsoftonline.com',
        serverDefault: 'https://login.microsoftonline.com',
        hint: 'Sovereign clouds only.',
      },
    ],
    instructions: () => [
      <>
        In <strong>Microsoft Entra ID → App registrations</strong>, register an app, copy its <strong>Application (client) ID</strong> and <strong>Directory (tenant) ID</strong>, then add a <strong>client secret</strong> under Certificates &amp; secrets.
      </>,
      <>
        In Azure Monitor, create a <strong>Data Collection Endpoint</strong> and copy its <strong>Logs ingestion</strong> URL.
      </>,
      <>
        In your Sentinel workspace, create a custom table (for example <strong>VerityAudit_CL</strong>) with a <strong>Data Collection Rule</strong>; the DCR declares the stream <code>Custom-VerityAudit_CL</code>. Copy the DCR’s <strong>Immutable ID</strong> from its JSON view.
      </>,
      <>
        On the DCR, open <strong>Access control (IAM)</strong> and assign the role <strong>Monitoring Metrics Publisher</strong> to your app.
      </>,
    ],
  },
  {
    type: 'GenericHttps',
    label: 'HTTPS endpoint',
    description: 'Signed webhooks',
    logo: { background: '#3f3f46', content: <Globe /> },
    fields: [
      {
        name: 'url',
        carriesSecrets: true,
        label: 'Endpoint URL',
        kind: 'text',
        required: true,
        url: true,
        maxLength: 2048,
        placeholder: 'https://example.com/webhooks/audit-logs',
        hintFor: (values) =>
          values.format === 'ndjson' ? 'Receives POST requests with NDJSON: one event per line. https:// is recommended.' : 'Receives POST requests with a JSON array of events. https:// is recommended.',
      },
      {
        name: 'format',
        label: 'Body format',
        kind: 'select',
        defaultValue: 'json',
        options: [
          { value: 'json', label: 'JSON array' },
          { value: 'ndjson', label: 'NDJSON (one event per line)' },
        ],
      },
      {
        name: 'signing_secret',
        label: 'Signing secret',
        kind: 'password',
        secret: true,
        pattern: '^(whsec_)?[A-Za-z0-9+/=]{32,128}$',
        patternMessage: 'whsec_ followed by base64 of 24–64 bytes.',
        validate: (value) => {
          const bytes = webhookSecretBytes(value);
          return bytes >= 24 && bytes <= 64 ? undefined : `The secret must be base64 of 24–64 bytes (after whsec_); this one decodes to ${bytes} bytes.`;
        },
        hint: 'Standard Webhooks (base64 of 24–64 bytes, whsec_ optional): requests carry webhook-id, webhook-timestamp and webhook-signature.',
        generate: randomSecret,
      },
      { name: 'headers', label: 'Custom headers', kind: 'headers', secret: true, advanced: true, placeholder: 'Authorization: Bearer …', hint: 'One “Name: value” per line; stored encrypted.' },
    ],
    instructions: () => [
      <>Expose an HTTPS endpoint that accepts POST requests and answers with a 2xx status promptly: Verity waits 15 seconds by default, then counts the attempt as failed and retries.</>,
      <>
        Generate a <strong>signing secret</strong> below and store it on your side; verify each request’s <code>webhook-signature</code> with any Standard Webhooks library.
      </>,
      <>
        Deduplicate by <code>event.id</code>: delivery is at least once. Answer <strong>429</strong> or <strong>5xx</strong> to have a batch retried, <strong>410</strong> to stop deliveries.
      </>,
    ],
  },
  {
    type: 'Syslog',
    label: 'Syslog',
    description: 'RFC 5424 over TCP/TLS',
    logo: { background: '#0f766e', content: <Terminal /> },
    fields: [
      { name: 'host', label: 'Host', kind: 'text', required: true, pattern: '^[A-Za-z0-9._:-]{1,253}$', patternMessage: 'A host name or IP address.', placeholder: 'siem.example.com' },
      { name: 'port', label: 'Port', kind: 'number', required: true, min: 1, max: 65535, defaultValue: '6514', hint: '6514 for TLS, 514 or 601 for TCP.' },
      { name: 'tls', label: 'Use TLS (RFC 5425)', kind: 'checkbox', defaultValue: true, hint: 'Without TLS, events travel in clear text.' },
      {
        name: 'format',
        label: 'Message format',
        kind: 'select',
        required: true,
        defaultValue: 'rfc5424_json',
        options: [
          { value: 'rfc5424_json', label: 'RFC 5424 with JSON body' },
          { value: 'cef', label: 'CEF (ArcSight)' },
          { value: 'leef', label: 'LEEF 2.0 (QRadar)' },
        ],
      },
      { name: 'ca', label: 'CA certificate (PEM)', kind: 'textarea', advanced: true, pattern: '-----BEGIN CERTIFICATE-----', patternMessage: 'Paste a PEM certificate.', placeholder: '-----BEGIN CERTIFICATE-----', hint: 'Only when the receiver’s certificate is not publicly trusted.' },
      { name: 'app_name', label: 'APP-NAME', kind: 'text', advanced: true, pattern: '^[\\x21-\\x7e]{1,48}$', patternMessage: 'Up to 48 printable characters.', placeholder: 'verity' },
      { name: 'facility', label: 'Facility', kind: 'number', advanced: true, min: 0, max: 23, placeholder: '13', hint: '13 is “log audit”, 16–23 are local0–local7.' },
    ],
    instructions: () => [
      <>Open a TCP listener on your syslog collector (rsyslog, syslog-ng, a SIEM’s syslog input); TLS on port 6514 is recommended.</>,
      <>Allow inbound connections from this service’s outbound addresses.</>,
      <>Pick the message format your SIEM parses best: JSON for most, CEF for ArcSight, LEEF for QRadar.</>,
    ],
  },
];

export function destinationSpec(type: string): DestinationSpec | undefined {
  return DESTINATIONS.find((spec) => spec.type === type);
}

export function DestinationLogo({ type, small = false }: { type: string; small?: boolean }) {
  const spec = destinationSpec(type);
  return (
    <span className={`dest-logo ${small ? 'sm' : ''}`} style={{ background: spec?.logo.background ?? '#52525b' }} aria-hidden="true">
      {spec?.logo.content ?? '?'}
    </span>
  );
}

export function destinationLabel(type: string): string {
  return destinationSpec(type)?.label ?? type;
}
