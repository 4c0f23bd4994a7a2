import type { TestApp } from '../helpers/app.js';

/** Polls GET /log_streams/:id until `predicate` holds (the stream as this test reads it), or fails saying where it stopped. */
export async function waitForState<Stream>(ctx: TestApp, id: string, predicate: (s: Stream) => boolean, timeoutMs = 15_000): Promise<Stream> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stream = (await ctx.call<Stream>('GET', `/log_streams/${id}`)).body;
    if (predicate(stream)) return stream;
    if (Date.now() > deadline) throw new Error(`stream never reached the expected state: ${JSON.stringify(stream)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
