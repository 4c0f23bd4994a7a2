import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { AlertTriangle, History, Pause, Pencil, Play, RotateCw, Send, Trash2, Zap } from 'lucide-react';
import { useMemo, useState } from 'react';
import { ApiError, api, errorMessage } from '../../lib/api';
import { formatBytes, formatDateTime, formatNumber, formatRelative, fromLocalInput, isoTitle, localZoneName, toLocalInput } from '../../lib/format';
import type { Delivery, List, LogStream, TestResult } from '../../lib/types';
import { Badge, StreamStateBadge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { DataTable } from '../../ui/data-table';
import { ConfirmDialog, Dialog } from '../../ui/dialog';
import { Field } from '../../ui/field';
import { EmptyState, ErrorState } from '../../ui/states';
import { useToast } from '../../ui/toast';
import { destinationLabel, destinationSpec, DestinationLogo } from './destinations';
import { deliveredSub, failedAttemptsCard } from './stream-stats';

/** What a failed test means, in words that follow its outcome (refused by the destination, unreachable, never sent). */
export function testHeadline(result: TestResult): string {
  if (result.success) return 'Connection works — the destination accepted a test event.';
  const status = result.http_status !== null ? ` (HTTP ${result.http_status})` : '';
  switch (result.outcome) {
    case 'invalid':
      // No HTTP status: Verity stopped before any answer (a refused address, a rejected configuration).
      return result.http_status === null ? 'Verity could not send the test event: the settings were refused before connecting.' : `The destination refused the test event${status}.`;
    case 'retry':
      return result.http_status === null ? 'Verity could not reach the destination.' : `The destination could not take the test event right now${status}.`;
    case 'too_large':
      return `The destination refused the test event as too large${status}.`;
    default:
      return `The destination did not accept the test event${status}.`;
  }
}

/** What happens to a saved stream whose test failed, by outcome. */
function afterFailedTest(result: TestResult): string {
  if (result.outcome === 'invalid') return 'Deliveries will fail the same way and stop the stream until its settings change: fix them below and save again, or pause the stream.';
  return 'Events wait for it and deliveries keep retrying until the destination accepts them. Fix the settings below and save again if needed.';
}

/**
 * A test's result. `saved`: the stream the test ran against was just saved (the setup form), so a failure
 * says plainly that the stream exists and is delivering (or paused) despite it.
 */
export function TestResultPanel({ result, saved }: { result: TestResult; saved?: LogStream }) {
  const failedAfterSave = saved !== undefined && !result.success;
  return (
    <div className={`callout ${result.success ? 'callout-green' : 'callout-red'}`} role="status" data-testid="test-result">
      {result.success ? <Zap aria-hidden="true" /> : <AlertTriangle aria-hidden="true" />}
      <div className="stack-sm" style={{ minWidth: 0 }}>
        {failedAfterSave && <strong>{saved.paused ? 'The stream was saved (it is paused), but the connection test failed.' : 'The stream was saved and is active, but the connection test failed.'}</strong>}
        {failedAfterSave ? <span>{testHeadline(result)}</span> : <strong>{testHeadline(result)}</strong>}
        <span className="text-sm">
          {result.http_status !== null ? `HTTP ${result.http_status} · ` : ''}
          {result.outcome} · {result.latency_ms} ms
        </span>
        {result.error && (
          <code className="text-sm" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
            {result.error}
          </code>
        )}
        {failedAfterSave && !saved.paused && <span className="text-sm">{afterFailedTest(result)}</span>}
      </div>
    </div>
  );
}

function outcomeTone(outcome: string): 'green' | 'amber' | 'red' | 'gray' {
  if (outcome === 'delivered') return 'green';
  if (outcome === 'invalid') return 'red';
  if (outcome === 'retry' || outcome === 'too_large' || outcome === 'partial') return 'amber';
  return 'gray';
}

export function DeliveriesTable({ streamId, limit = 20 }: { streamId: string; limit?: number }) {
  const deliveries = useQuery({
    queryKey: ['deliveries', streamId, limit],
    queryFn: () => api.get<List<Delivery>>(`/log_streams/${encodeURIComponent(streamId)}/deliveries`, { limit }),
    refetchInterval: 5000,
  });
  const columns = useMemo<ColumnDef<Delivery, unknown>[]>(
    () => [
      {
        id: 'time',
        header: `Attempted (${localZoneName()})`,
        cell: ({ row }) => (
          <span className="time-cell" title={isoTitle(row.original.attempted_at)}>
            {formatDateTime(row.original.attempted_at)}
          </span>
        ),
      },
      {
        id: 'outcome',
        header: 'Outcome',
        cell: ({ row }) => (
          <Badge tone={outcomeTone(row.original.outcome)} dot>
            {row.original.outcome}
            {row.original.kind === 'test' ? ' · test' : ''}
          </Badge>
        ),
      },
      {
        id: 'events',
        header: 'Events',
        meta: { className: 'num' },
        cell: ({ row }) =>
          row.original.first_seq !== null ? (
            <span title={`seq ${row.original.first_seq}–${row.original.last_seq ?? ''}`}>{formatNumber(row.original.event_count)}</span>
          ) : (
            formatNumber(row.original.event_count)
          ),
      },
      { id: 'bytes', header: 'Size', meta: { className: 'num' }, cell: ({ row }) => <span className="muted">{formatBytes(row.original.bytes)}</span> },
      { id: 'status', header: 'HTTP', meta: { className: 'num' }, cell: ({ row }) => row.original.http_status ?? <span className="muted">—</span> },
      { id: 'latency', header: 'Latency', meta: { className: 'num' }, cell: ({ row }) => <span className="muted">{Math.round(row.original.latency_ms)} ms</span> },
      {
        id: 'error',
        header: 'Error',
        cell: ({ row }) => (row.original.error ? <span title={row.original.error} className="text-sm cell-clamp" style={{ color: 'var(--red)' }}>{row.original.error}</span> : <span className="muted">—</span>),
      },
    ],
    [],
  );
  if (deliveries.isError) return <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} title="Could not load deliveries" />;
  return (
    <DataTable
      caption="Recent deliveries"
      data={deliveries.data?.data}
      columns={columns}
      loading={deliveries.isLoading}
      empty={
        <EmptyState icon={<Send />} title="No deliveries yet">
          Batches appear here as new events are sent to the destination.
        </EmptyState>
      }
    />
  );
}

/**
 * A stream's status: state and why, last sync, counters, configuration and recent deliveries, with
 * pause/resume, test, replay (operators), edit and delete (when given).
 */
export function StreamStatus({ stream, onEdit, onDeleted, allowReplay = false, allowDelete = true }: { stream: LogStream; onEdit?: () => void; onDeleted?: () => void; allowReplay?: boolean; allowDelete?: boolean }) {
  const client = useQueryClient();
  const toast = useToast();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [replayOpen, setReplayOpen] = useState(false);
  const [replayFrom, setReplayFrom] = useState(() => toLocalInput(new Date(Date.now() - 86_400_000).toISOString()));
  const [testResult, setTestResult] = useState<TestResult | null>(null);
  const path = `/log_streams/${encodeURIComponent(stream.id)}`;
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['streams'] });
    void client.invalidateQueries({ queryKey: ['stream', stream.id] });
    void client.invalidateQueries({ queryKey: ['deliveries', stream.id] });
  };
  const toggle = useMutation({
    mutationFn: () => api.post<LogStream>(`${path}/${stream.paused ? 'resume' : 'pause'}`),
    onSuccess: (updated) => {
      toast.success(updated.paused ? 'Stream paused' : 'Stream resumed');
      refresh();
    },
    onError: (error) => toast.error(errorMessage(error)),
  });
  // POST /resume on a stream that is not paused clears its failure and retries delivery at once.
  const retry = useMutation({
    mutationFn: () => api.post<LogStream>(`${path}/resume`),
    onSuccess: () => {
      toast.success('Retrying delivery now');
      refresh();
    },
    onError: (error) => toast.error(errorMessage(error)),
  });
  const test = useMutation({
    mutationFn: () => api.post<TestResult>(`${path}/test`),
    onSuccess: (result) => {
      setTestResult(result);
      refresh();
    },
    onError: (error) => toast.error(errorMessage(error)),
  });
  const remove = useMutation({
    mutationFn: () => api.del(path),
    onSuccess: () => {
      toast.success('Stream deleted');
      setConfirmDelete(false);
      void client.invalidateQueries({ queryKey: ['streams'] });
      onDeleted?.();
    },
    onError: (error) => toast.error(errorMessage(error)),
  });
  const replay = useMutation({
    mutationFn: () => api.post<LogStream>(`${path}/replay`, { from: fromLocalInput(replayFrom) }),
    onSuccess: () => {
      toast.success('Replay started: events from that time will be delivered again');
      setReplayOpen(false);
      refresh();
    },
    // A refused time (422 on `from`, e.g. after the stream's position) is shown at the field instead.
    onError: (error) => {
      if (!(error instanceof ApiError && error.fieldMessage('from') !== undefined)) toast.error(errorMessage(error));
    },
  });
  const replayFromIso = fromLocalInput(replayFrom);
  // Checked before sending: a time is needed, and one in the future has nothing to replay.
  const replayProblem =
    replayFromIso === undefined ? 'Choose the time to replay from.' : Date.parse(replayFromIso) > Date.now() ? 'This time is in the future: there is nothing to replay from it.' : undefined;
  const replayServerError = replay.error instanceof ApiError ? replay.error.fieldMessage('from') : undefined;
  const [replaySubmitted, setReplaySubmitted] = useState(false);
  const replayError = (replaySubmitted ? replayProblem : undefined) ?? (replayServerError === undefined ? undefined : `This time ${replayServerError}`);
  const openReplay = () => {
    replay.reset();
    setReplaySubmitted(false);
    setReplayOpen(true);
  };
  const submitReplay = () => {
    setReplaySubmitted(true);
    if (replayProblem === undefined) replay.mutate();
  };

  const failing = (stream.state === 'error' || stream.state === 'invalid') && !stream.paused;
  const failedCard = failedAttemptsCard(stream);
  const spec = destinationSpec(stream.type);
  const configRows = (spec?.fields ?? [])
    .map((field) => {
      if (field.secret) return stream.secrets_set.includes(field.name) ? { label: field.label, value: '•••••••• (encrypted)' } : null;
      const value = stream.config[field.name];
      if (value === undefined || value === null || value === '') return null;
      return { label: field.label, value: typeof value === 'boolean' ? (value ? 'Yes' : 'No') : typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value) };
    })
    .filter((row): row is { label: string; value: string } => row !== null);

  return (
    <div className="stack" style={{ gap: 20 }}>
      <div className="page-header">
        <div className="row" style={{ gap: 14 }}>
          <DestinationLogo type={stream.type} />
          <div>
            <div className="row" style={{ gap: 10 }}>
              <h1>{stream.name ?? destinationLabel(stream.type)}</h1>
              <StreamStateBadge stream={stream} />
            </div>
            <p className="text-secondary text-sm" style={{ marginTop: 2 }}>
              {destinationLabel(stream.type)} · <code>{stream.id}</code>
            </p>
          </div>
        </div>
        <div className="page-actions">
          <Button icon={<Send />} loading={test.isPending} onClick={() => test.mutate()}>
            Test connection
          </Button>
          <Button icon={stream.paused ? <Play /> : <Pause />} loading={toggle.isPending} onClick={() => toggle.mutate()}>
            {stream.paused ? 'Resume' : 'Pause'}
          </Button>
          {allowReplay && (
            <Button icon={<History />} onClick={openReplay}>
              Replay
            </Button>
          )}
          {onEdit && (
            <Button icon={<Pencil />} onClick={onEdit}>
              Edit
            </Button>
          )}
          {allowDelete && onDeleted && (
            <Button variant="danger" icon={<Trash2 />} onClick={() => setConfirmDelete(true)}>
              Delete
            </Button>
          )}
        </div>
      </div>

      {testResult && <TestResultPanel result={testResult} />}

      {failing && (
        <div className={`callout ${stream.state === 'invalid' ? 'callout-red' : 'callout-amber'}`} role="alert" data-testid="stream-failure">
          <AlertTriangle aria-hidden="true" />
          <div className="stack-sm" style={{ minWidth: 0, flex: 1 }}>
            <strong>{stream.state === 'invalid' ? 'Delivery stopped: the destination rejected the configuration.' : 'Delivery is failing and being retried.'}</strong>
            {stream.state_reason && <span style={{ overflowWrap: 'anywhere' }}>{stream.state_reason}</span>}
            <span className="text-sm">
              {stream.state === 'invalid'
                ? `Nothing is retried until the settings change or you retry. ${onEdit ? 'Fix the settings with Edit (saving them retries at once), or choose' : 'Choose'} Retry now once the problem is fixed on the destination’s side.`
                : `Verity retries automatically${stream.stats.next_attempt_at ? ` (next attempt ${formatRelative(stream.stats.next_attempt_at)})` : ''}; choose Retry now to try at once.`}
            </span>
            <div>
              <Button size="sm" icon={<RotateCw />} loading={retry.isPending} onClick={() => retry.mutate()}>
                Retry now
              </Button>
            </div>
          </div>
        </div>
      )}

      <div className="grid grid-4">
        <div className="card stat">
          <div className="stat-label">Last synced</div>
          <div className="stat-value" style={{ fontSize: 18 }} title={stream.last_synced_at ?? undefined}>
            {formatRelative(stream.last_synced_at)}
          </div>
          <div className="stat-sub">{stream.last_synced_at ? formatDateTime(stream.last_synced_at) : 'No events delivered yet'}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Behind</div>
          <div className="stat-value" style={{ fontSize: 18 }}>
            {formatNumber(stream.stats.lag_events)}
          </div>
          <div className="stat-sub">events waiting</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Delivered</div>
          <div className="stat-value" style={{ fontSize: 18 }}>
            {formatNumber(stream.stats.delivered)}
          </div>
          <div className="stat-sub">{deliveredSub(stream)}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Failed attempts</div>
          <div className={`stat-value ${failedCard.danger ? 'danger' : ''}`} style={{ fontSize: 18 }}>
            {formatNumber(stream.stats.failed)}
          </div>
          <div className="stat-sub">{failedCard.sub}</div>
        </div>
      </div>

      <div className="grid grid-main-side">
        <div className="card">
          <div className="card-header">
            <div>
              <h2>Recent deliveries</h2>
              <p>Every attempt, newest first. Refreshes every few seconds.</p>
            </div>
          </div>
          <DeliveriesTable streamId={stream.id} />
        </div>
        <div className="card">
          <div className="card-header">
            <h2>Configuration</h2>
          </div>
          <div className="card-body">
            <dl className="dl">
              <dt>Destination</dt>
              <dd>{destinationLabel(stream.type)}</dd>
              {configRows.map((row) => (
                <div key={row.label} style={{ display: 'contents' }}>
                  <dt>{row.label}</dt>
                  <dd className="mono text-sm">{row.value}</dd>
                </div>
              ))}
              <dt>Created</dt>
              <dd>{formatDateTime(stream.created_at)}</dd>
            </dl>
          </div>
        </div>
      </div>

      <ConfirmDialog
        open={confirmDelete}
        onClose={() => setConfirmDelete(false)}
        onConfirm={() => remove.mutate()}
        loading={remove.isPending}
        title="Delete this log stream?"
        confirmLabel="Delete stream"
        danger
      >
        Events stop flowing to {destinationLabel(stream.type)} immediately. Events already delivered stay where they are.
      </ConfirmDialog>
      <Dialog
        open={replayOpen}
        onClose={() => setReplayOpen(false)}
        title="Replay events"
        description="Re-deliver every event that occurred from this time on. The destination may receive duplicates; deduplicate by event id."
        footer={
          <>
            <Button onClick={() => setReplayOpen(false)}>Cancel</Button>
            <Button variant="primary" loading={replay.isPending} onClick={submitReplay}>
              Replay
            </Button>
          </>
        }
      >
        <Field
          label="Replay from"
          error={replayError}
          hint={
            stream.stats.lag_events > 0
              ? `The stream is ${formatNumber(stream.stats.lag_events)} events behind: a time after the last event it delivered is refused, since a replay never skips events.`
              : 'Events that occurred from this time on are sent again, in log order.'
          }
        >
          <input
            className="input"
            type="datetime-local"
            value={replayFrom}
            onChange={(event) => {
              setReplayFrom(event.target.value);
              replay.reset();
            }}
          />
        </Field>
      </Dialog>
    </div>
  );
}
