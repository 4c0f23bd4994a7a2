import { parentPort } from 'node:worker_threads';
import type { HashBatch, HashReply } from './hash-pool.js';
import { hashMatches } from './hash-pool.js';

// A worker thread of the HashPool: recomputes event hashes off the main thread.
parentPort?.on('message', (batch: HashBatch) => {
  const { documents, prevs, hashes } = batch;
  let bad = -1;
  let at = 0;
  for (let i = 0; i < batch.count; i++) {
    let end = documents.indexOf('\n', at);
    if (end === -1) end = documents.length;
    if (!hashMatches(prevs.slice(i * 64, i * 64 + 64), documents.slice(at, end), hashes.slice(i * 64, i * 64 + 64))) {
      bad = i;
      break;
    }
    at = end + 1;
  }
  const reply: HashReply = { id: batch.id, bad };
  parentPort?.postMessage(reply);
});
