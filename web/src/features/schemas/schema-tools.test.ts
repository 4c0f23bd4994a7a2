import { describe, expect, it } from 'vitest';
import { checkEvent, checkSchemaBody, NEW_ACTION_TEMPLATE, sampleEvent, sampleValue } from './schema-tools';

describe('the sample event of the schema editor', () => {
  it('the new-action template is a valid schema whose sample matches it', () => {
    expect(checkSchemaBody(NEW_ACTION_TEMPLATE)).toEqual([]);
    expect(checkEvent(sampleEvent('document.updated', NEW_ACTION_TEMPLATE, 1), NEW_ACTION_TEMPLATE)).toEqual([]);
  });

  it('fits a string between its minLength and maxLength, as a 2-letter code must', () => {
    expect(sampleValue({ type: 'string', minLength: 2, maxLength: 2 }, 'ip_country')).toHaveLength(2);
    expect(sampleValue({ type: 'string', maxLength: 3 }, 'plan')).toBe('exa');
    expect(sampleValue({ type: 'string', minLength: 30 }, 'plan')).toHaveLength(30);
    const schema = { type: 'object', properties: { code: { type: 'string', minLength: 2, maxLength: 2 }, note: { type: 'string', maxLength: 5 } } };
    const body = { targets: [{ type: 'team' }], metadata: schema };
    expect(checkEvent(sampleEvent('x.y', body, 1), body)).toEqual([]);
  });

  it('keeps a number within its maximum', () => {
    expect(sampleValue({ type: 'integer', maximum: 0 })).toBe(0);
    expect(sampleValue({ type: 'number', exclusiveMaximum: -5 })).toBe(-6);
    expect(sampleValue({ type: 'integer', minimum: 3, maximum: 9 })).toBe(3);
  });
});
