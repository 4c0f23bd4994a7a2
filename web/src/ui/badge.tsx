import type { ReactNode } from 'react';
import type { LogStream } from '../lib/types';

export type Tone = 'green' | 'amber' | 'red' | 'gray' | 'blue' | 'accent';

export function Badge({ tone = 'gray', dot = false, children, title }: { tone?: Tone; dot?: boolean; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {dot && <span className="dot" aria-hidden="true" />}
      {children}
    </span>
  );
}

const STATE: Record<LogStream['state'], { tone: Tone; label: string }> = {
  active: { tone: 'green', label: 'Active' },
  inactive: { tone: 'gray', label: 'Paused' },
  error: { tone: 'amber', label: 'Retrying' },
  invalid: { tone: 'red', label: 'Needs attention' },
};

export function StreamStateBadge({ stream }: { stream: Pick<LogStream, 'state' | 'paused' | 'state_reason'> }) {
  const state = stream.paused ? STATE.inactive : STATE[stream.state];
  return (
    <Badge tone={state.tone} dot title={stream.state_reason ?? undefined}>
      {state.label}
    </Badge>
  );
}
