-- The appender's one-statement commit (src/ingest/ingest.sql.ts, appendAtKnownHeads) moves each organization's
-- head only from the (seq) the process last wrote. When another process appended in between, or an
-- idempotency key in the group is already taken, the statement must fail as a whole so nothing of it is
-- kept; this raises the error the appender recognises (SQLSTATE VY001) and then retries under row locks.
create function verity_assert_append(ok boolean) returns boolean
language plpgsql as $$
begin
  if not ok then
    raise exception 'organization log head moved or idempotency key taken' using errcode = 'VY001';
  end if;
  return true;
end
$$;
