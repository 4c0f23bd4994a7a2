import { createServer } from 'node:http';

/**
 * The HTTP ceiling: the least a Node server can do per request — read the body, JSON.parse it, answer 200 —
 * and store nothing. Run as its own process by bench/http-ceiling.ts; listens on loopback only.
 */
const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set');

const OK = JSON.stringify({ success: true });

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'POST') {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad json"}');
        return;
      }
    }
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(OK);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening on ${port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
