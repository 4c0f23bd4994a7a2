import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AlertCircle, CheckCircle2, FileJson, Plus, RefreshCw, Search } from 'lucide-react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { ApiError, api, errorMessage } from '../../lib/api';
import { formatDate, formatDateTime } from '../../lib/format';
import type { Action, List, SchemaVersion } from '../../lib/types';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { Field } from '../../ui/field';
import { JsonView } from '../../ui/json-view';
import { PageHeader } from '../../ui/page-header';
import { EmptyState, ErrorState, LoadingBlock } from '../../ui/states';
import { useToast } from '../../ui/toast';
import { checkEvent, checkSchemaBody, NEW_ACTION_TEMPLATE, parseJson, sampleEvent, type Problem, type SchemaBody } from '../../features/schemas/schema-tools';

function bodyOf(version: SchemaVersion): SchemaBody {
  return {
    ...(version.actor ? { actor: version.actor } : {}),
    targets: version.targets,
    ...(version.metadata ? { metadata: version.metadata } : {}),
  };
}

/** A textarea with a line-number gutter; Tab indents instead of leaving the field. */
function CodeEditor({ value, onChange, label, errorLines, invalid, minRows = 16 }: { value: string; onChange: (value: string) => void; label: string; errorLines: Set<number>; invalid: boolean; minRows?: number }) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = Math.max(minRows, value.split('\n').length);
  return (
    <div className="editor" data-invalid={invalid}>
      <div className="editor-gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          <div key={i} className={errorLines.has(i + 1) ? 'err' : undefined}>
            {i + 1}
          </div>
        ))}
      </div>
      <textarea
        aria-label={label}
        aria-invalid={invalid}
        spellCheck={false}
        value={value}
        rows={lines}
        onChange={(event) => onChange(event.target.value)}
        onScroll={(event) => {
          if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
        }}
        onKeyDown={(event) => {
          if (event.key === 'Tab' && !event.shiftKey) {
            event.preventDefault();
            const area = event.currentTarget;
            const { selectionStart, selectionEnd } = area;
            const next = `${value.slice(0, selectionStart)}  ${value.slice(selectionEnd)}`;
            onChange(next);
            requestAnimationFrame(() => area.setSelectionRange(selectionStart + 2, selectionStart + 2));
          }
        }}
      />
    </div>
  );
}

function ProblemList({ problems }: { problems: Problem[] }) {
  return (
    <ul className="problems" aria-label="Problems">
      {problems.map((problem, index) => (
        <li key={index} style={{ color: 'var(--red)' }}>
          <AlertCircle width={13} height={13} aria-hidden="true" style={{ flex: 'none', transform: 'translateY(2px)' }} />
          <span>
            {problem.line !== undefined && <b>Line {problem.line}: </b>}
            {problem.path !== 'JSON' && <code>{problem.path}</code>} {problem.message}
          </span>
        </li>
      ))}
    </ul>
  );
}

function VersionEditor({ action, isNew, latest, onCreated, onCancel }: { action: string; isNew: boolean; latest: SchemaVersion | undefined; onCreated: (action: string, version: SchemaVersion) => void; onCancel: () => void }) {
  const toast = useToast();
  const client = useQueryClient();
  const [name, setName] = useState(action);
  const [text, setText] = useState(() => JSON.stringify(latest ? bodyOf(latest) : NEW_ACTION_TEMPLATE, null, 2));
  const nextVersion = (latest?.version ?? 0) + 1;
  const parsed = useMemo(() => parseJson(text), [text]);
  const schemaProblems = useMemo(() => (parsed.problem ? [parsed.problem] : checkSchemaBody(parsed.value)), [parsed]);
  const validBody = schemaProblems.length === 0 ? (parsed.value as SchemaBody) : null;

  const [sampleText, setSampleText] = useState('');
  const [sampleEdited, setSampleEdited] = useState(false);
  // The sample follows the schema until the user edits it.
  useEffect(() => {
    if (validBody && !sampleEdited) setSampleText(JSON.stringify(sampleEvent(name, validBody, nextVersion), null, 2));
  }, [validBody, sampleEdited, name, nextVersion]);
  const sample = useMemo(() => parseJson(sampleText), [sampleText]);
  const sampleProblems = useMemo(() => {
    if (!validBody) return [];
    if (sample.problem) return [sample.problem];
    try {
      return checkEvent(sample.value, validBody);
    } catch (error) {
      return [{ path: '/', message: errorMessage(error) }];
    }
  }, [sample, validBody]);

  // The API's rule, which is an event's: 1 to 256 characters (counted as characters, not UTF-16 units), any text.
  const nameProblem = name.trim() === '' ? 'Name the action, e.g. document.updated' : [...name.trim()].length > 256 ? 'At most 256 characters.' : undefined;
  const create = useMutation({
    mutationFn: () => api.post<SchemaVersion>(`/audit_logs/actions/${encodeURIComponent(name.trim())}/schemas`, validBody),
    onSuccess: (version) => {
      toast.success(`Version ${version.version} of ${name.trim()} created`);
      void client.invalidateQueries({ queryKey: ['actions'] });
      void client.invalidateQueries({ queryKey: ['schemas', name.trim()] });
      onCreated(name.trim(), version);
    },
  });
  const errorLines = new Set(schemaProblems.map((p) => p.line).filter((l): l is number => l !== undefined));
  const sampleErrorLines = new Set(sampleProblems.map((p) => p.line).filter((l): l is number => l !== undefined));

  return (
    <div className="stack" style={{ gap: 16 }}>
      <div className="row-between">
        <div>
          <h2>{isNew ? 'New action' : `New version of ${action}`}</h2>
          <p className="text-sm text-secondary">
            Versions are immutable. Events that name no version are checked against the latest one (this will be <b>v{nextVersion}</b>).
          </p>
        </div>
      </div>
      {isNew && (
        <Field label="Action" hint="Exactly as your application sends it in events’ action; by convention resource.verb, e.g. document.updated" error={nameProblem && name !== '' ? nameProblem : undefined}>
          <input className="input mono" value={name} onChange={(event) => setName(event.target.value)} placeholder="document.updated" autoFocus />
        </Field>
      )}
      <div className="grid grid-2" style={{ alignItems: 'start' }}>
        <section className="stack-sm" aria-labelledby="schema-editor-label">
          <div className="row-between" style={{ minHeight: 28 }}>
            <h3 id="schema-editor-label">JSON Schema</h3>
            <span className="text-sm" role="status" aria-live="polite" style={{ color: schemaProblems.length === 0 ? 'var(--green)' : 'var(--red)' }}>
              {schemaProblems.length === 0 ? (
                <span className="row" style={{ gap: 4 }}>
                  <CheckCircle2 width={13} height={13} aria-hidden="true" /> Valid schema
                </span>
              ) : (
                `${schemaProblems.length} problem${schemaProblems.length === 1 ? '' : 's'}`
              )}
            </span>
          </div>
          <CodeEditor label="Schema JSON" value={text} onChange={setText} errorLines={errorLines} invalid={schemaProblems.length > 0} />
          <p className="text-sm muted">
            <code>targets</code> lists the allowed target types; <code>actor.metadata</code>, <code>targets[].metadata</code> and <code>metadata</code> are JSON Schemas (draft-07) for those metadata objects.
          </p>
          {schemaProblems.length > 0 && <ProblemList problems={schemaProblems} />}
        </section>
        <section className="stack-sm" aria-labelledby="sample-label">
          <div className="row-between" style={{ minHeight: 28 }}>
            <h3 id="sample-label">Sample event</h3>
            <div className="row" style={{ gap: 8 }}>
              {validBody && (
                <span className="text-sm" role="status" aria-live="polite" data-testid="sample-status" style={{ color: sampleProblems.length === 0 ? 'var(--green)' : 'var(--red)' }}>
                  {sampleProblems.length === 0 ? 'Matches the schema' : 'Does not match'}
                </span>
              )}
              <Button
                size="sm"
                variant="ghost"
                icon={<RefreshCw />}
                disabled={!validBody}
                onClick={() => {
                  setSampleEdited(false);
                  if (validBody) setSampleText(JSON.stringify(sampleEvent(name, validBody, nextVersion), null, 2));
                }}
              >
                Regenerate
              </Button>
            </div>
          </div>
          {validBody ? (
            <>
              <CodeEditor
                label="Sample event JSON"
                value={sampleText}
                onChange={(value) => {
                  setSampleEdited(true);
                  setSampleText(value);
                }}
                errorLines={sampleErrorLines}
                invalid={sampleProblems.length > 0}
              />
              <p className="text-sm muted">Edit the sample to try values against the schema.</p>
              {sampleProblems.length > 0 && <ProblemList problems={sampleProblems} />}
            </>
          ) : (
            <div className="card" style={{ boxShadow: 'none' }}>
              <EmptyState icon={<FileJson />} title="Fix the schema to see a sample">
                A sample event is generated from a valid schema and checked against it.
              </EmptyState>
            </div>
          )}
        </section>
      </div>
      {create.isError && (
        <div className="callout callout-red" role="alert">
          {create.error instanceof ApiError && create.error.errors.length > 0
            ? `${create.error.message} ${create.error.errors.map((e) => `${e.field ?? ''} ${e.message ?? ''}`).join('; ')}`
            : errorMessage(create.error)}
        </div>
      )}
      <div className="form-actions">
        <Button onClick={onCancel}>Cancel</Button>
        <Button variant="primary" icon={<Plus />} loading={create.isPending} disabled={!validBody || nameProblem !== undefined} onClick={() => create.mutate()}>
          Create version {nextVersion}
        </Button>
      </div>
    </div>
  );
}

function ActionDetail({ action, onNewVersion }: { action: string; onNewVersion: (latest: SchemaVersion | undefined) => void }) {
  const versions = useQuery({
    queryKey: ['schemas', action],
    queryFn: () => api.get<List<SchemaVersion>>(`/audit_logs/actions/${encodeURIComponent(action)}/schemas`, { limit: 100 }),
  });
  const list = useMemo(() => [...(versions.data?.data ?? [])].sort((a, b) => b.version - a.version), [versions.data]);
  const [selected, setSelected] = useState<number | null>(null);
  useEffect(() => setSelected(null), [action]);
  const shown = list.find((v) => v.version === selected) ?? list[0];
  if (versions.isLoading) return <LoadingBlock />;
  if (versions.isError) return <ErrorState error={versions.error} onRetry={() => void versions.refetch()} />;
  return (
    <div className="stack" style={{ gap: 16 }}>
      <div className="row-between">
        <div>
          <h2 className="mono" style={{ fontSize: 16 }}>
            {action}
          </h2>
          <p className="text-sm text-secondary">
            {list.length} version{list.length === 1 ? '' : 's'}
            {list[0] && ` · latest v${list[0].version}, ${formatDate(list[0].created_at)}`}
          </p>
        </div>
        <Button variant="primary" icon={<Plus />} onClick={() => onNewVersion(list[0])}>
          New version
        </Button>
      </div>
      {list.length === 0 ? (
        <EmptyState icon={<FileJson />} title="No schema yet">
          Events of this action are accepted as they are. Add a version to check their metadata.
        </EmptyState>
      ) : (
        <>
          <div className="segmented" role="group" aria-label="Version" style={{ alignSelf: 'flex-start', flexWrap: 'wrap' }}>
            {list.map((v) => (
              <button key={v.version} type="button" aria-pressed={shown?.version === v.version} onClick={() => setSelected(v.version)}>
                v{v.version}
                {v === list[0] ? ' · latest' : ''}
              </button>
            ))}
          </div>
          {shown && (
            <div className="stack-sm">
              <div className="row" style={{ gap: 8 }}>
                <Badge tone="accent">Version {shown.version}</Badge>
                <span className="text-sm muted">Created {formatDateTime(shown.created_at)}</span>
                <span className="text-sm muted">· targets: {shown.targets.map((t) => t.type).join(', ')}</span>
              </div>
              <JsonView value={bodyOf(shown)} label="Copy schema" />
            </div>
          )}
        </>
      )}
    </div>
  );
}

export function SchemasPage({ action }: { action?: string }) {
  const [, navigate] = useLocation();
  const [filter, setFilter] = useState('');
  const [editing, setEditing] = useState<{ action: string; isNew: boolean; latest: SchemaVersion | undefined } | null>(null);
  const actions = useQuery({ queryKey: ['actions', 'list'], queryFn: () => api.get<List<Action>>('/audit_logs/actions', { limit: 100 }) });
  const list = (actions.data?.data ?? []).filter((a) => a.name.toLowerCase().includes(filter.trim().toLowerCase()));
  useEffect(() => setEditing(null), [action]);

  return (
    <div className="page page-wide">
      <PageHeader
        title="Schemas"
        description="Define what each action’s metadata must look like. Events that do not match are refused with a 400 (code invalid_audit_log_event) listing each field that does not match."
        actions={
          <Button variant="primary" icon={<Plus />} onClick={() => setEditing({ action: '', isNew: true, latest: undefined })}>
            New action
          </Button>
        }
      />
      <div className="grid" style={{ gridTemplateColumns: 'minmax(220px, 280px) minmax(0, 1fr)', alignItems: 'start' }}>
        <nav className="card" aria-label="Actions">
          <div className="card-body" style={{ padding: 10 }}>
            <div className="input-group">
              <Search aria-hidden="true" />
              <input className="input" type="search" placeholder="Filter actions" aria-label="Filter actions" value={filter} onChange={(event) => setFilter(event.target.value)} />
            </div>
          </div>
          <div style={{ padding: '0 6px 8px', maxHeight: 560, overflowY: 'auto' }}>
            {actions.isLoading ? (
              <LoadingBlock height={120} />
            ) : actions.isError ? (
              <ErrorState error={actions.error} onRetry={() => void actions.refetch()} />
            ) : list.length === 0 ? (
              <p className="muted text-sm" style={{ padding: '8px 10px' }}>
                {filter ? 'No action matches.' : 'No actions yet.'}
              </p>
            ) : (
              list.map((a) => (
                <Link key={a.name} href={`/schemas/${encodeURIComponent(a.name)}`} className="nav-link" aria-current={a.name === action ? 'page' : undefined} style={{ height: 'auto', padding: '6px 10px' }}>
                  <span className="cell-stack" style={{ flex: 1 }}>
                    <span className="mono" style={{ fontSize: 12.5 }}>
                      {a.name}
                    </span>
                    <span className="sub">{a.schema ? `v${a.schema.version} · ${a.schema.targets.map((t) => t.type).join(', ')}` : 'no schema'}</span>
                  </span>
                </Link>
              ))
            )}
          </div>
        </nav>
        <section className="card">
          <div className="card-body">
            {editing ? (
              <VersionEditor
                key={`${editing.action}:${editing.latest?.version ?? 0}`}
                action={editing.action}
                isNew={editing.isNew}
                latest={editing.latest}
                onCancel={() => setEditing(null)}
                onCreated={(name) => {
                  setEditing(null);
                  window.scrollTo({ top: 0 });
                  navigate(`/schemas/${encodeURIComponent(name)}`);
                }}
              />
            ) : action ? (
              <ActionDetail action={action} onNewVersion={(latest) => setEditing({ action, isNew: false, latest })} />
            ) : (
              <EmptyState
                icon={<FileJson />}
                title={actions.data?.data.length ? 'Choose an action' : 'No schemas yet'}
                action={
                  <Button variant="primary" icon={<Plus />} onClick={() => setEditing({ action: '', isNew: true, latest: undefined })}>
                    Define an action
                  </Button>
                }
              >
                Actions appear here once they have a schema. Pick one to see its versions, or define a new one.
              </EmptyState>
            )}
          </div>
        </section>
      </div>
    </div>
  );
}
