import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ExportS3Config } from '../config/config.js';

/**
 * Bytes the file stream takes before it asks the export to wait: the export makes the next bytes while the
 * last ones are copied into the file (on the thread pool), instead of taking turns 16 KB at a time.
 */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

/** Where export files live: the data directory (embedded default) or an S3-compatible bucket. */
export interface ExportStorage {
  readonly kind: 'local' | 's3';
  /**
   * Stores `body` as file `name` and resolves to where it went (for operators) once the whole file is
   * durable; a failed or interrupted write leaves nothing readable under that name.
   */
  write(name: string, body: Readable, contentType: string): Promise<string>;
  /** The stored file, or undefined when it is gone. */
  read(name: string): Promise<Readable | undefined>;
  /** Deletes the file and any leftover of an interrupted write; a missing file is not an error. */
  remove(name: string): Promise<void>;
  close(): void;
}

/** Files in `<dataDir>/exports/`, written as `.partial` and renamed into place when complete. */
export class LocalExportStorage implements ExportStorage {
  readonly kind = 'local' as const;
  constructor(private readonly dir: string) {}

  async write(name: string, body: Readable): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const final = this.pathOf(name);
    // Unique per write: a run whose lease expired while it was still alive never shares a file with its successor.
    const partial = `${final}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
    try {
      await pipeline(body, createWriteStream(partial, { highWaterMark: WRITE_BUFFER_BYTES }));
      // The rename must not reach disk before the data does, or a crash could leave a truncated "ready" file.
      const handle = await open(partial, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, final);
    } catch (error) {
      await rm(partial, { force: true }).catch(() => undefined);
      throw error;
    }
    return final;
  }

  async read(name: string): Promise<Readable | undefined> {
    const file = this.pathOf(name);
    try {
      await stat(file);
    } catch {
      return undefined;
    }
    return createReadStream(file);
  }

  async remove(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
    // Leftovers of interrupted writes (a killed process cannot clean up after itself).
    const leftovers = (await readdir(this.dir).catch(() => [])).filter((file) => file.startsWith(`${name}.`) && file.endsWith('.partial'));
    for (const file of leftovers) await rm(path.join(this.dir, file), { force: true });
  }

  close(): void {}

  /** Locations are bare file names made by the service; anything else is refused, never resolved. */
  private pathOf(name: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new Error(`invalid export file name '${name}'`);
    return path.join(this.dir, name);
  }
}

/** Objects under a prefix in an S3-compatible bucket; multipart upload, so any size streams through. */
export class S3ExportStorage implements ExportStorage {
  readonly kind = 's3' as const;
  private readonly client: S3Client;

  constructor(private readonly config: ExportS3Config) {
    this.client = new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      ...(config.accessKeyId === undefined || config.secretAccessKey === undefined
        ? {}
        : { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }),
    });
  }

  async write(name: string, body: Readable, contentType: string): Promise<string> {
    const key = this.keyOf(name);
    // 8 MiB parts, two in flight: bounded memory whatever the file's size. An object appears only when
    // the upload completes; a failed one is aborted (leavePartsOnError: false).
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: key, Body: body, ContentType: contentType },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
    return `s3://${this.config.bucket}/${key}`;
  }

  async read(name: string): Promise<Readable | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(name) }));
      return response.Body as Readable | undefined;
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async remove(name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(name) }));
  }

  close(): void {
    this.client.destroy();
  }

  private keyOf(name: string): string {
    return `${this.config.prefix}${name}`;
  }
}
