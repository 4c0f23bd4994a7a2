import { describe, expect, it } from 'vitest';
import { destinationSpec } from './destinations';
import { removalKey, toConfig, validate } from './stream-form';

describe('stream form: a changed URL needs its saved secrets again', () => {
  const splunk = destinationSpec('Splunk');
  if (splunk === undefined) throw new Error('no Splunk spec');
  const saved = { hec_url: 'https://splunk.example.com:8088', index: 'main' };

  it('asks for the saved token again when the HEC URL changes, not for another field', () => {
    const moved = validate(splunk, { hec_url: 'https://elsewhere.example.net:8088', hec_token: '', index: 'main' }, ['hec_token'], saved);
    expect(moved.hec_token).toMatch(/Enter it again/);
    expect(validate(splunk, { hec_url: 'https://splunk.example.com:8088', hec_token: '', index: 'audit' }, ['hec_token'], saved).hec_token).toBeUndefined();
    expect(validate(splunk, { hec_url: 'https://elsewhere.example.net:8088', hec_token: 'new-token', index: 'main' }, ['hec_token'], saved).hec_token).toBeUndefined();
  });

  it('asks nothing of a new stream (nothing saved yet), whatever its URL', () => {
    // No saved config: no URL has moved, so a blank token is only "required", never "enter it again".
    const blank = validate(splunk, { hec_url: 'https://splunk.example.com:8088', hec_token: '' }, []);
    expect(blank.hec_token).toBe('HEC token is required.');
  });

  it('does not count a cleared field the API fills with its default as moved', () => {
    const gcs = destinationSpec('GoogleCloudStorage');
    if (gcs === undefined) throw new Error('no GCS spec');
    const savedGcs = { bucket: 'audit', endpoint: 'https://storage.googleapis.com' };
    const values = { bucket: 'audit', hmac_access_key_id: 'GOOG1EXAMPLE', hmac_secret: '', endpoint: '' };
    expect(validate(gcs, values, ['hmac_secret'], savedGcs).hmac_secret).toBeUndefined();
    expect(validate(gcs, { ...values, endpoint: 'https://minio.example.com' }, ['hmac_secret'], savedGcs).hmac_secret).toMatch(/Enter it again/);
  });
});

describe('stream form: a saved optional secret can be removed', () => {
  const https = destinationSpec('GenericHttps');
  if (https === undefined) throw new Error('no GenericHttps spec');
  const saved = { url: 'https://siem.example.com/in', format: 'json' };

  it('sends null for a secret marked for removal, and does not ask for it again when the URL moves', () => {
    const values = { url: 'https://new.example.com/in', format: 'json', signing_secret: '', headers: '', [removalKey('signing_secret')]: true };
    const errors = validate(https, values, ['signing_secret', 'headers'], saved);
    expect(errors.signing_secret).toBeUndefined();
    expect(errors.headers).toMatch(/Enter it again/);
    expect(toConfig(https, values, true, saved)).toMatchObject({ url: 'https://new.example.com/in', signing_secret: null });
    expect(toConfig(https, values, true, saved)).not.toHaveProperty('headers');
    // Without the mark a blank secret is left out: the saved one is kept.
    expect(toConfig(https, { ...values, [removalKey('signing_secret')]: false }, true, saved)).not.toHaveProperty('signing_secret');
  });
});

describe('stream form: an emptied optional field is removed', () => {
  const datadog = destinationSpec('Datadog');
  if (datadog === undefined) throw new Error('no Datadog spec');

  it('sends null for a cleared optional field when editing, and leaves blank secrets out', () => {
    const config = toConfig(datadog, { site: 'US1', api_key: 'retyped', endpoint_url: '' }, true, { site: 'US1', endpoint_url: 'https://proxy.example.com' });
    expect(config).toMatchObject({ site: 'US1', api_key: 'retyped', endpoint_url: null });
    expect(toConfig(datadog, { site: 'US1', api_key: '', endpoint_url: '' }, true, { site: 'US1' })).not.toHaveProperty('api_key');
    expect(toConfig(datadog, { site: 'US1', api_key: '', endpoint_url: '' }, true, { site: 'US1' })).not.toHaveProperty('endpoint_url');
  });
});
