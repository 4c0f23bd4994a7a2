import { createHash } from 'node:crypto';
import type { Db } from '../db/db.js';
import { AppError } from '../errors/app-error.js';
import { canonicalJson } from '../ingest/hash.js';
import {
  completeRecord,
  deleteExpired,
  deleteRecord,
  insertRecords,
  selectRecord,
  takeOverStale,
  type IdempotencyRecord,
} from './idempotency.sql.js';

/** A request carrying an Idempotency-Key, scoped to the API key that sent it. */
export interface IdempotencyClaim {
  scope: string;
  key: string;
  requestHash: string;
}

export interface StoredResponse {
  status: number;
  body: string;
  /** True when this is the stored answer to an earlier request with the same key. */
  replayed?: boolean;
}

// A request still 'processing' after this long belongs to a process that died; a retry may take it over.
const STALE_AFTER_SECONDS = 60;
// A repeat that arrives while the first is still running waits this long for its answer (the WorkOS
// contract: a repeated key gets the first response), checking with a growing pause; only then is it a 409.
const WAIT_FOR_FIRST_MS = 10_000;
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 250;

/** Same method, path and JSON body (canonicalised, so key order does not matter) → same hash. */
export function hashRequest(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n`)
    .update(body === undefined ? '' : canonicalJson(body))
    .digest('hex');
}

/** What a repeated key gets: the first response again, or a 409 saying why it cannot. */
export function answerRepeat(record: IdempotencyRecord, claim: IdempotencyClaim): StoredResponse {
  if (record.request_hash !== claim.requestHash) {
    throw new AppError(
      'idempotency_key_reused',
      `The Idempotency-Key '${claim.key}' was already used for a different request. Use a new key for a new request.`,
    );
  }
  if (record.state !== 'done' || record.response_status === null || record.response_body === null) {
    throw new AppError(
      'idempotency_key_in_progress',
      `A request with the Idempotency-Key '${claim.key}' is still being processed. Retry shortly.`,
      { retryAfter: 1 },
    );
  }
  return { status: record.response_status, body: record.response_body, replayed: true };
}

export class IdempotencyService {
  constructor(private readonly db: Db) {}

  /**
   * Claims the key before the request runs. Resolves to null when this request should proceed, or to the
   * stored response when it repeats a finished one; throws 409 for a different body or one in flight.
   */
  async claim(claim: IdempotencyClaim, deadline = Date.now() + WAIT_FOR_FIRST_MS): Promise<StoredResponse | null> {
    const inserted = await this.db.transaction(async (tx) => {
      await deleteExpired(tx, [claim.scope], [claim.key]);
      return insertRecords(tx, [
        { scope: claim.scope, key: claim.key, request_hash: claim.requestHash, state: 'processing', response_status: null, response_body: null },
      ]);
    });
    if (inserted.length > 0) return null;
    const record = await selectRecord(this.db, claim.scope, claim.key);
    if (record === undefined) return this.claim(claim, deadline);
    if (record.state === 'processing' && record.request_hash === claim.requestHash) {
      if (await takeOverStale(this.db, claim.scope, claim.key, STALE_AFTER_SECONDS)) return null;
      return this.waitForFirst(claim, deadline);
    }
    return answerRepeat(record, claim);
  }

  /**
   * The same request is running now (a client retrying after a timeout, or sending twice at once): wait for
   * its answer and give that one. Null when the first failed meanwhile (a 5xx frees the key): then this
   * request runs itself. One deadline covers the whole wait, however many first requests fail meanwhile.
   */
  private async waitForFirst(claim: IdempotencyClaim, deadline: number): Promise<StoredResponse | null> {
    let pause = FIRST_POLL_MS;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, MAX_POLL_MS);
      const record = await selectRecord(this.db, claim.scope, claim.key);
      if (record === undefined) return this.claim(claim, deadline);
      if (record.state === 'done' || Date.now() >= deadline) return answerRepeat(record, claim);
    }
  }

  /** Stores the response of a claimed request (4xx included: a repeat gets the same answer). */
  async complete(claim: IdempotencyClaim, response: StoredResponse): Promise<void> {
    await completeRecord(this.db, claim.scope, claim.key, response.status, response.body);
  }

  /** Frees the key after a server error, so the client's retry runs again. */
  async release(claim: IdempotencyClaim): Promise<void> {
    await deleteRecord(this.db, claim.scope, claim.key);
  }

  async lookup(claim: IdempotencyClaim): Promise<StoredResponse> {
    const record = await selectRecord(this.db, claim.scope, claim.key);
    if (record === undefined) throw new AppError('internal_error', 'Idempotency record vanished; retry the request.');
    return answerRepeat(record, claim);
  }
}
