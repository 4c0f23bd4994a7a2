import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from '../db/db.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { SystemAudit } from '../system-audit/system-audit.service.js';
import { ExportService, type ExportDownload } from './export.service.js';
import { DownloadSigner } from './export.signing.js';
import { LocalExportStorage, S3ExportStorage, type ExportStorage } from './export.storage.js';

/** How often expired exports are swept (each export run also sweeps first). */
export const EXPORT_CLEANUP_INTERVAL_MS = 60 * 60 * 1000;

export function exportStorageFor(config: Pick<Config, 'exportS3' | 'dataDir'>): ExportStorage {
  return config.exportS3 === undefined ? new LocalExportStorage(path.join(config.dataDir, 'exports')) : new S3ExportStorage(config.exportS3);
}

/**
 * A download as an administrative audit event. Whoever holds a signed link may download, so the actor is
 * the link (the export's creator is in the metadata); the address and user agent say who used it.
 */
export function recordDownloadIn(systemAudit: Pick<SystemAudit, 'record'>): (download: ExportDownload) => Promise<void> {
  return async ({ export: row, ip, userAgent }) => {
    await systemAudit.record(
      'audit_log_export.downloaded',
      { id: `download_link:${row.id}`, type: 'signed_link', name: 'Export download link' },
      [
        { id: row.id, type: 'audit_log_export' },
        { id: row.organization_id, type: 'organization' },
      ],
      { organization_id: row.organization_id, format: row.format, gzip: row.gzip, rows: row.rows_written, created_by: row.created_by ?? undefined },
      { ip, ...(userAgent === undefined ? {} : { userAgent }) },
    );
  };
}

/** The export service as configured: storage from VERITY_EXPORT_S3_* or the data directory. */
export function createExportService(
  deps: { db: Db; config: Config; secretKey: Buffer; logger: Logger },
  jobs: Pick<JobRunner, 'enqueue'>,
  systemAudit?: Pick<SystemAudit, 'record'>,
): ExportService {
  return new ExportService(deps.db, jobs, {
    storage: exportStorageFor(deps.config),
    signer: new DownloadSigner(deps.secretKey),
    publicUrl: deps.config.publicUrl,
    ttlHours: deps.config.exportTtlHours,
    logger: deps.logger,
    ...(systemAudit === undefined ? {} : { recordDownload: recordDownloadIn(systemAudit) }),
  });
}
