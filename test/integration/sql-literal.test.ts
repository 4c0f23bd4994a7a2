import { expect, it } from 'vitest';
import type { Db } from '../../src/db/db.js';
import { sqlLiteral } from '../../src/db/sql-literal.js';
import { describeEachBackendWith } from '../helpers/app.js';
import { createTestDb } from '../helpers/db.js';

async function startDb(kind: 'pglite' | 'postgres'): Promise<{ db: Db; close(): Promise<void> }> {
  const testDb = await createTestDb(kind);
  return { db: testDb.db, close: () => testDb.drop() };
}

// Strings an attacker would try to break out of a literal with, and text that must survive as is.
const STRINGS = [
  '',
  'plain',
  "it's",
  "''",
  "'; drop table events; --",
  'back\\slash',
  "\\'; select 1; --",
  "E'\\x41'",
  '$$ dollar $$',
  'line\nbreak\r\ttab',
  'é 中文 🎉',
  '"double"',
];

describeEachBackendWith('SQL literals', startDb, (ctx) => {
  it('reads back every string exactly, with standard_conforming_strings on and off', async () => {
    const db = ctx().db;
    for (const conforming of ['on', 'off']) {
      const values = await db.transaction(async (tx) => {
        await tx.query(`select set_config('standard_conforming_strings', '${conforming}', true)`);
        await tx.query(`select set_config('escape_string_warning', 'off', true)`);
        const rows = await tx.query<Record<string, string>>(`select ${STRINGS.map((text, i) => `${sqlLiteral(text)} as v${i}`).join(', ')}`);
        return STRINGS.map((_, i) => rows[0]?.[`v${i}`]);
      });
      expect(values, `standard_conforming_strings=${conforming}`).toEqual(STRINGS);
    }
  });

  it('writes arrays of strings and integers', async () => {
    const rows = await ctx().db.query<{ a: string[]; e: string[]; n: number }>(
      `select ${sqlLiteral(STRINGS)} as a, ${sqlLiteral([])} as e, ${sqlLiteral(9007199254740991)}::int8 as n`,
    );
    expect(rows[0]).toEqual({ a: STRINGS, e: [], n: 9007199254740991 });
  });
});

it('refuses what has no literal: NUL, fractions, unsafe integers', () => {
  expect(() => sqlLiteral('a\0b')).toThrow(/NUL/);
  expect(() => sqlLiteral(1.5)).toThrow(/safe integers/);
  expect(() => sqlLiteral(2 ** 60)).toThrow(/safe integers/);
});
