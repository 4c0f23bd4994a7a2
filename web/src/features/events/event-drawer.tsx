import { ChevronDown, ChevronUp, ShieldCheck } from 'lucide-react';
import { useEffect, useState } from 'react';
import { formatDateTime, formatRelative } from '../../lib/format';
import type { AuditEvent, Metadata } from '../../lib/types';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { CopyButton } from '../../ui/copy-button';
import { Drawer } from '../../ui/dialog';
import { JsonView } from '../../ui/json-view';
import { TabPanel, Tabs } from '../../ui/tabs';

function MetadataList({ metadata }: { metadata: Metadata | undefined }) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return <p className="muted text-sm">No metadata</p>;
  return (
    <dl className="dl">
      {entries.map(([key, value]) => (
        <div key={key} style={{ display: 'contents' }}>
          <dt className="mono">{key}</dt>
          <dd className="mono">{String(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

type Tab = 'details' | 'json';

/** One event: who did what to which targets, its metadata, and its place in the hash chain. */
export function EventDrawer({
  event,
  organizationName,
  onClose,
  onPrevious,
  onNext,
}: {
  event: AuditEvent | null;
  organizationName?: string;
  onClose: () => void;
  onPrevious?: (() => void) | undefined;
  onNext?: (() => void) | undefined;
}) {
  const [tab, setTab] = useState<Tab>('details');
  useEffect(() => {
    if (event === null) return;
    const onKey = (keyEvent: KeyboardEvent) => {
      if (keyEvent.target instanceof HTMLElement && keyEvent.target.closest('[role="tablist"]')) return;
      if (keyEvent.key === 'j' || keyEvent.key === 'ArrowDown') onNext?.();
      if (keyEvent.key === 'k' || keyEvent.key === 'ArrowUp') onPrevious?.();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [event, onNext, onPrevious]);

  return (
    <Drawer
      open={event !== null}
      onClose={onClose}
      label="Event details"
      header={
        event && (
          <div className="stack-sm">
            <div className="row" style={{ gap: 10 }}>
              <span className="pill" style={{ fontSize: 13 }}>
                {event.action}
              </span>
              <Badge>v{event.version}</Badge>
              <div className="row" style={{ marginLeft: 'auto', gap: 4 }}>
                <Button size="sm" variant="ghost" iconOnly icon={<ChevronUp />} aria-label="Newer event" title="Newer event (k)" disabled={!onPrevious} onClick={onPrevious} />
                <Button size="sm" variant="ghost" iconOnly icon={<ChevronDown />} aria-label="Older event" title="Older event (j)" disabled={!onNext} onClick={onNext} />
              </div>
            </div>
            <div className="text-sm text-secondary">
              {formatDateTime(event.occurred_at)} · {formatRelative(event.occurred_at)}
            </div>
          </div>
        )
      }
    >
      {event && (
        <>
          <Tabs
            idPrefix="event"
            value={tab}
            onChange={setTab}
            items={[
              { key: 'details', label: 'Details' },
              { key: 'json', label: 'JSON' },
            ]}
          />
          <TabPanel idPrefix="event" active={tab}>
            {tab === 'json' ? (
              <JsonView value={event} />
            ) : (
              <div className="stack" style={{ gap: 22 }}>
                <section className="drawer-section" aria-labelledby="ev-summary">
                  <h3 id="ev-summary">Summary</h3>
                  <dl className="dl">
                    <dt>Event ID</dt>
                    <dd>
                      <span className="copy-row">
                        <code>{event.id}</code>
                        <CopyButton value={event.id} label="Copy event ID" />
                      </span>
                    </dd>
                    <dt>Organization</dt>
                    <dd>
                      {organizationName ? `${organizationName} · ` : ''}
                      <code>{event.organization_id}</code>
                    </dd>
                    <dt>Occurred</dt>
                    <dd>{new Date(event.occurred_at).toISOString()}</dd>
                    <dt>Received</dt>
                    <dd>{new Date(event.received_at).toISOString()}</dd>
                    <dt>Location</dt>
                    <dd>{event.context.location}</dd>
                    {event.context.user_agent && (
                      <>
                        <dt>User agent</dt>
                        <dd className="text-sm">{event.context.user_agent}</dd>
                      </>
                    )}
                  </dl>
                </section>
                <section className="drawer-section" aria-labelledby="ev-actor">
                  <h3 id="ev-actor">Actor</h3>
                  <dl className="dl">
                    <dt>Name</dt>
                    <dd>{event.actor.name ?? <span className="muted">—</span>}</dd>
                    <dt>ID</dt>
                    <dd>
                      <code>{event.actor.id}</code>
                    </dd>
                    <dt>Type</dt>
                    <dd>{event.actor.type}</dd>
                  </dl>
                  {event.actor.metadata && Object.keys(event.actor.metadata).length > 0 && (
                    <div style={{ marginTop: 10 }}>
                      <MetadataList metadata={event.actor.metadata} />
                    </div>
                  )}
                </section>
                <section className="drawer-section" aria-labelledby="ev-targets">
                  <h3 id="ev-targets">Targets ({event.targets.length})</h3>
                  {event.targets.length === 0 ? (
                    <p className="muted text-sm">No targets</p>
                  ) : (
                    <div className="stack" style={{ gap: 8 }}>
                      {event.targets.map((target, index) => (
                        <div key={`${target.type}:${target.id}:${index}`} className="card" style={{ padding: '10px 12px', boxShadow: 'none' }}>
                          <div className="row-between">
                            <div className="cell-stack">
                              <span>{target.name ?? target.id}</span>
                              <span className="sub mono">{target.id}</span>
                            </div>
                            <Badge>{target.type}</Badge>
                          </div>
                          {target.metadata && Object.keys(target.metadata).length > 0 && (
                            <div style={{ marginTop: 8 }}>
                              <MetadataList metadata={target.metadata} />
                            </div>
                          )}
                        </div>
                      ))}
                    </div>
                  )}
                </section>
                <section className="drawer-section" aria-labelledby="ev-metadata">
                  <h3 id="ev-metadata">Metadata</h3>
                  <MetadataList metadata={event.metadata} />
                </section>
                <section className="drawer-section" aria-labelledby="ev-integrity">
                  <h3 id="ev-integrity" className="row" style={{ gap: 6 }}>
                    <ShieldCheck aria-hidden="true" width={14} height={14} /> Integrity
                  </h3>
                  <dl className="dl">
                    <dt>Sequence</dt>
                    <dd className="tabular" data-testid="event-seq">
                      #{event.seq}
                    </dd>
                    <dt>Hash</dt>
                    <dd>
                      <span className="copy-row">
                        <span className="hash" data-testid="event-hash">
                          {event.hash}
                        </span>
                        <CopyButton value={event.hash} label="Copy hash" />
                      </span>
                    </dd>
                    <dt>Previous hash</dt>
                    <dd>
                      <span className="hash">{event.prev_hash}</span>
                    </dd>
                  </dl>
                </section>
              </div>
            )}
          </TabPanel>
        </>
      )}
    </Drawer>
  );
}
