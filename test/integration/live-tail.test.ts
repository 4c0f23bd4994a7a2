import type { FastifyInstance } from 'fastify';
import { expect, it } from 'vitest';
import { ADMIN_KEY, describeEachBackend, makeEvent } from '../helpers/app.js';

interface SseMessage {
  id: string;
  event: string;
  data: { id: string; seq: number; actor: { id: string } };
}

/** Reads SSE messages from a live response until `count` arrived (bounded by a timeout). */
async function readMessages(response: Response, count: number, timeoutMs = 10_000): Promise<SseMessage[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const messages: SseMessage[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  while (messages.length < count && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()))]);
    if (chunk === null || chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(': ')).map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
      if (fields.data !== undefined) messages.push({ id: fields.id ?? '', event: fields.event ?? '', data: JSON.parse(fields.data) as SseMessage['data'] });
    }
  }
  await reader.cancel();
  return messages;
}

/** The app's address, listening on a free loopback port from the first test that needs one. */
async function listening(app: FastifyInstance): Promise<string> {
  const bound = app.server.address();
  if (bound !== null && typeof bound === 'object') return `http://127.0.0.1:${bound.port}`;
  return app.listen({ port: 0, host: '127.0.0.1' });
}

describeEachBackend('GET /audit_logs/events/stream (live tail)', (ctx) => {
  it('streams events appended after connecting, in order, and resumes from Last-Event-ID', async () => {
    const address = await listening(ctx().app);
    const org = await ctx().createOrg();
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ actor: { id: 'before', type: 'user' } }) } });

    const headers = { authorization: `Bearer ${ADMIN_KEY}` };
    const live = await fetch(`${address}/audit_logs/events/stream?organization_id=${org}`, { headers });
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toContain('text/event-stream');
    const reading = readMessages(live, 3);
    for (const actor of ['a1', 'a2']) {
      await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ actor: { id: actor, type: 'user' } }) } });
    }
    await ctx().call('POST', '/audit_logs/events/batch', { body: { organization_id: org, events: [makeEvent({ actor: { id: 'a3', type: 'user' } })] } });
    const messages = await reading;
    expect(messages.map((m) => m.data.actor.id)).toEqual(['a1', 'a2', 'a3']);
    expect(messages.map((m) => m.id)).toEqual(['2', '3', '4']);
    expect(messages.every((m) => m.event === 'audit_log_event')).toBe(true);

    const resumed = await fetch(`${address}/audit_logs/events/stream?organization_id=${org}`, { headers: { ...headers, 'last-event-id': '1' } });
    expect((await readMessages(resumed, 3)).map((m) => m.data.seq)).toEqual([2, 3, 4]);
  });

  it('ends an open tail when its key is revoked, telling the client why, and sends nothing after', async () => {
    const address = await listening(ctx().app);
    const org = await ctx().createOrg();
    const created = await ctx().call<{ id: string; secret: string }>('POST', '/api_keys', { body: { name: 'tail', scopes: ['events:read'], organization_id: org } });
    const live = await fetch(`${address}/audit_logs/events/stream?organization_id=${org}`, { headers: { authorization: `Bearer ${created.body.secret}` } });
    expect(live.status).toBe(200);
    const reading = readMessages(live, 3, 8_000);
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ actor: { id: 'seen', type: 'user' } }) } });
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect((await ctx().call('DELETE', `/api_keys/${created.body.id}`)).status).toBe(200);
    await ctx().call('POST', '/audit_logs/events', { body: { organization_id: org, event: makeEvent({ actor: { id: 'after-revoke', type: 'user' } }) } });

    const messages = await reading;
    expect(messages.map((m) => m.event)).toEqual(['audit_log_event', 'error']);
    expect(messages[0]?.data.actor.id).toBe('seen');
    expect(messages[1]?.data).toMatchObject({ code: 'unauthorized' });
  });

  it('ends an idle tail within about 5 s of its key being revoked (no events needed)', async () => {
    const address = await listening(ctx().app);
    const org = await ctx().createOrg();
    const created = await ctx().call<{ id: string; secret: string }>('POST', '/api_keys', { body: { name: 'idle tail', scopes: ['events:read'], organization_id: org } });
    const live = await fetch(`${address}/audit_logs/events/stream?organization_id=${org}`, { headers: { authorization: `Bearer ${created.body.secret}` } });
    const reading = readMessages(live, 1, 9_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const revokedAt = Date.now();
    expect((await ctx().call('DELETE', `/api_keys/${created.body.id}`)).status).toBe(200);
    const messages = await reading;
    expect(messages.map((m) => m.event)).toEqual(['error']);
    expect(Date.now() - revokedAt).toBeLessThan(7_000);
  }, 15_000);

  it('refuses without organization_id or for an unknown organization, in JSON', async () => {
    expect((await ctx().call('GET', '/audit_logs/events/stream')).status).toBe(422);
    const unknown = await ctx().call('GET', '/audit_logs/events/stream?organization_id=org_unknown');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/json');
  });
});
