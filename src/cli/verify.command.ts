import type { KeyObject } from 'node:crypto';
import { createReadStream, existsSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Command } from 'commander';
import { InvalidExportFile, splitLines, verifyExportLines, type OfflineReport } from '../integrity/offline-verifier.js';
import { keyIdOf, parsePublicKey, rawPublicKey } from '../integrity/signing-key.js';

interface VerifyOptions {
  file: string;
  publicKey: string[];
  requireComplete?: boolean;
  allowUnsigned?: boolean;
  json?: boolean;
}

/**
 * `verity verify --file export.ndjson --public-key key.pem`: checks an NDJSON export offline, with nothing
 * but the file and the server's public key. Exit status 0 when valid (and, with --require-complete, proven
 * complete), 1 otherwise — also when it could not run (unreadable file or key; the message says which).
 */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('verify an NDJSON export offline: event hashes, chain links, purged ranges and signed checkpoints')
    .requiredOption('--file <path>', 'the NDJSON export (gzip is detected)')
    .requiredOption(
      '--public-key <key>',
      'the server’s Ed25519 public key: a PEM file, PEM text, or base64 (GET /audit_logs/integrity/public_key); repeat for rotated keys',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--require-complete', 'fail unless the file is proven complete (contiguous and signed up to its last event)')
    .option('--allow-unsigned', 'accept a file without the signed export statement (exports made before Verity signed them); its events and checkpoints are still checked, but deletions cannot be told from a filter')
    .option('--json', 'print the report as JSON')
    .action(async (options: VerifyOptions) => {
      const keys = options.publicKey.map(loadPublicKey);
      if (!existsSync(options.file)) throw new Error(`no such file: ${options.file}`);
      const report = await verifyExportLines(readLines(options.file), keys, { allowUnsigned: options.allowUnsigned === true }).catch((error: unknown) => {
        // A gzip file cut short or changed fails its own checksum before any line can be checked.
        if (isZlibError(error)) return 'is not an intact gzip file (it was cut or changed)';
        if (error instanceof InvalidExportFile) return `is not an NDJSON export: ${error.message}`;
        throw error;
      });
      if (typeof report === 'string') {
        process.stdout.write(`INVALID: ${options.file} ${report}; nothing in it can be relied on.\n`);
        process.exitCode = 1;
        return;
      }
      const ok = report.valid && (options.requireComplete !== true || report.complete);
      process.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : render(report, keys, options.requireComplete === true));
      process.exitCode = ok ? 0 : 1;
    });
}

function isZlibError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && error.code.startsWith('Z_');
}

function loadPublicKey(value: string): KeyObject {
  const text = existsSync(value) ? readFileSync(value, 'utf8') : value;
  const key = parsePublicKey(text);
  if (key === undefined) throw new Error(`--public-key ${value.length > 60 ? `${value.slice(0, 60)}…` : value}: not an Ed25519 public key (PEM file, PEM text or base64)`);
  return key;
}

async function* readLines(file: string): AsyncGenerator<string> {
  const fd = openSync(file, 'r');
  const magic = Buffer.alloc(2);
  const read = readSync(fd, magic, 0, 2, 0);
  closeSync(fd);
  let input: Readable = createReadStream(file);
  if (read === 2 && magic[0] === 0x1f && magic[1] === 0x8b) input = input.pipe(createGunzip());
  yield* splitLines(input as AsyncIterable<Buffer>);
}

function render(report: OfflineReport, keys: KeyObject[], requireComplete: boolean): string {
  const lines = [
    `File:         ${report.events.toLocaleString('en-US')} event(s)${report.first_seq === null ? '' : `, seq ${report.first_seq}–${report.last_seq ?? '?'}`}${report.organization_id === null ? '' : `, organization ${report.organization_id}`}`,
    `Public keys:  ${keys.map((key) => keyIdOf(rawPublicKey(key))).join(', ')}`,
    `Checkpoints:  ${report.checkpoints.total} in file, ${report.checkpoints.verified} signature(s) valid, ${report.checkpoints.matched} matching the events`,
    `Purged runs:  ${report.purged_ranges}`,
    `Contiguous:   ${report.contiguous ? 'yes' : 'no (a filtered export, or events are missing)'}${report.from_log_start ? '; starts at the beginning of the log' : ''}`,
    `Signed up to: ${report.signed_through === null ? '—' : `seq ${report.signed_through}`}`,
    `Statement:    ${report.statement === null ? (report.valid ? 'none verified' : 'not relied on: the file has problems (below)') : `${report.statement.export_id ?? 'CLI export'}, ${report.statement.complete ? 'complete' : 'filtered'}, signed ${report.statement.created_at} by key ${report.statement.key_id}`}`,
    '',
  ];
  if (report.problems.length > 0) {
    lines.push('Problems:');
    for (const problem of report.problems) lines.push(`  - [${problem.reason}] ${problem.message}`);
    lines.push('');
  }
  if (report.notes.length > 0) {
    lines.push('Notes:');
    for (const note of report.notes) lines.push(`  - ${note}`);
    lines.push('');
  }
  lines.push(report.summary);
  if (requireComplete && report.valid && !report.complete) lines.push('', 'FAILED --require-complete: completeness up to the last event is not proven.');
  return `${lines.join('\n')}\n`;
}
