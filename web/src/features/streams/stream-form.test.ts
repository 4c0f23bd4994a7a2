import { describe, expect, it } from 'vitest';
import { destinationSpec } from './destinations';
import { toConfig, validate } from './stream-form';

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

  it('asks nothing of a new stream (nothing saved yet)', () => {
    expect(validate(splunk, { hec_url: 'https://splunk.example.com:8088', hec_token: 'token' }, []).hec_token).toBeUndefined();
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
