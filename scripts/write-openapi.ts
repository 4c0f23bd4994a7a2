// Writes the committed openapi.json from the routes' own schemas (`npm run openapi`). CI regenerates it
// and fails when the committed copy differs, so the document never drifts from the code.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { migrate } from '../src/db/migrate.js';
import { openPglite } from '../src/db/pglite.js';
import { buildApp } from '../src/http/app.js';
import { packageRoot } from '../src/shared/package-root.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'verity-openapi-'));
try {
  const db = await openPglite();
  try {
    await migrate(db);
    const config = loadConfig({
      VERITY_BOOTSTRAP_API_KEY: 'sk_openapi_generator_only',
      LOG_LEVEL: 'silent',
      VERITY_DATA_DIR: dataDir,
    });
    const { app } = await buildApp({ config, db, secretKey: randomBytes(32) });
    try {
      const file = path.join(packageRoot(), 'openapi.json');
      writeFileSync(file, `${JSON.stringify(app.swagger(), null, 2)}\n`);
      process.stdout.write(`wrote ${path.relative(process.cwd(), file) || file}\n`);
    } finally {
      await app.close();
    }
  } finally {
    await db.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
