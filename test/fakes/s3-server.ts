import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** The parts of s3rver 3.x this wrapper uses; it ships no type declarations. */
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  resetOnClose: boolean;
  vhostBuckets: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;
interface S3rverAccountModule {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

const require = createRequire(import.meta.url);

export interface StoredObject {
  key: string;
  body: Buffer;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  metadata: Record<string, string>;
}

export interface FakeS3 {
  /** Base URL of the S3 API (path-style buckets), e.g. http://127.0.0.1:PORT. */
  endpoint: string;
  port: number;
  /** A key pair s3rver accepts (it checks the access key id; it does not verify SigV4 signatures). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Keys under `prefix`, sorted. */
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  /** The stored bytes as written (not gunzipped) and the headers that came with them. */
  getObject(bucket: string, key: string): Promise<StoredObject>;
  close(): Promise<void>;
}

/**
 * s3rver on a loopback port with its own temporary directory: a real S3 XML API for round trips. The
 * credentials are distinctive (not s3rver's built-in S3RVER/S3RVER) so tests can assert that the secret
 * never leaks into error messages, and long enough to pass the destinations' config schemas.
 */
export async function startFakeS3(options: { buckets: string[] }): Promise<FakeS3> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'verity-s3rver-'));
  const credentials = { accessKeyId: 'VERITYTESTACCESSKEY1', secretAccessKey: 'verity-test-secret-Zq8wP3kL9xR2vN7mT4' };
  // The account registry is module-global in s3rver; registering the same pair twice is harmless.
  (require('s3rver/lib/models/account.js') as S3rverAccountModule).DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const S3rver = require('s3rver') as S3rverConstructor;
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    resetOnClose: true,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials, maxAttempts: 1 });

  return {
    endpoint,
    port,
    credentials,
    async listKeys(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const item of page.Contents ?? []) if (item.Key !== undefined) keys.push(item.Key);
        token = page.NextContinuationToken;
      } while (token !== undefined);
      return keys.sort();
    },
    async getObject(bucket, key) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (response.Body === undefined) throw new Error(`object ${key} has no body`);
      return {
        key,
        body: Buffer.from(await response.Body.transformToByteArray()),
        contentType: response.ContentType,
        contentEncoding: response.ContentEncoding,
        metadata: response.Metadata ?? {},
      };
    },
    async close() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A loopback port nothing listens on (bound, then released): "receiver down". */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface ScriptedS3 {
  endpoint: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A scripted S3 endpoint for what s3rver cannot do: answer chosen requests with chosen S3 errors, and show
 * the exact requests (path style, SigV4 scope, session tokens). `respond` returns the error, or null for 200.
 */
export async function startScriptedS3(respond: (request: SeenRequest) => { status: number; code: string; message: string } | null): Promise<ScriptedS3> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(seen);
      const error = respond(seen);
      if (error === null) {
        res.writeHead(200, { etag: '"d41d8cd98f00b204e9800998ecf8427e"' }).end();
        return;
      }
      res
        .writeHead(error.status, { 'content-type': 'application/xml' })
        .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${error.code}</Code><Message>${error.message}</Message><RequestId>r1</RequestId></Error>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
