/**
 * A range bound from an ISO-8601 date-time, at the millisecond precision events are stored with
 * (occurred_at is written by toISOString). Date parsing drops digits past the millisecond, which would move
 * `…:00.000001` back to `…:00.000` and let a range include an event before its start; rounding such a bound
 * up to the next millisecond selects exactly the events at or after it (and, for an exclusive end, before
 * it). Undefined when the text is not a date-time starting with a calendar date.
 */
export function rangeBound(raw: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw)) return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) return undefined;
  const beyondMillisecond = /[Tt ]\d{2}:\d{2}:\d{2}[.,]\d{3}(\d+)/.exec(raw)?.[1];
  const bound = beyondMillisecond !== undefined && /[1-9]/.test(beyondMillisecond) ? new Date(date.getTime() + 1) : date;
  // Past the four-digit years the API and the database take (…23:59:59.9995Z rounds into year 10000).
  return bound.getUTCFullYear() > 9999 ? undefined : bound;
}
