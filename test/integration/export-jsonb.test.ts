import { expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import { compactJsonbText } from '../../src/export/jsonb-text.js';
import { describeEachBackendWith } from '../helpers/app.js';
import { createTestDb } from '../helpers/db.js';

async function startDb(kind: 'pglite' | 'postgres'): Promise<{ db: Db; close(): Promise<void> }> {
  const testDb = await createTestDb(kind);
  return { db: testDb.db, close: () => testDb.drop() };
}

// Documents whose jsonb text differs from JSON.stringify in every way known: spacing, numbers as
// written, digit-only keys (ordered first by JavaScript), escapes, and separators inside strings.
const DOCUMENTS = [
  '{}',
  '[]',
  '{"role": "admin"}',
  '[{"id":"a","type":"x"},{"id":"b","type":"y","name":"B, or: b"}]',
  '{"a": [1.50, 1e2, -0, 0.1, 12345678901234567890, 1e21, -3], "b": {"c": [true, false, null]}}',
  '{"10": 1, "a": 2, "2": 3, "b": {"01": "x", "1": "y"}}',
  '{"q": "say \\"hi\\"", "bs": "a\\\\b", "ctl": "\\u0001\\b\\f\\n\\r\\t", "slash": "\\/"}',
  '{"u": "é ü 中文 🎉 \\u00e9 \\u2028", "k ey": "v, w: x", "": ""}',
  '{"nested": {"z": {"y": [{}, [], [[]], {"a": {}}]}}, "long key name": "-1", "minus": "-"}',
];

describeEachBackendWith('jsonb text compaction', startDb, (ctx) => {
  it('turns every jsonb text into exactly what JSON.stringify(JSON.parse(text)) writes', async () => {
    for (const document of DOCUMENTS) {
      const rows = await ctx().db.query<{ text: string }>('select $1::jsonb::text as text', [document]);
      const text = (rows[0] as { text: string }).text;
      expect(compactJsonbText(text), text).toBe(JSON.stringify(JSON.parse(text)));
    }
  });
});
