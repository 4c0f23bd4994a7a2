import { Calendar, ListFilter, Plus, Search, X } from 'lucide-react';
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode, type RefObject } from 'react';
import { toLocalInput } from '../../lib/format';
import { Button } from '../../ui/button';
import { activeFilterCount, customRange, RANGE_LABELS, SEARCH_MAX_LENGTH, type EventFilterState, type RangePreset } from './filters';

type ListKey = 'actions' | 'actorIds' | 'actorNames' | 'targetIds' | 'targetTypes' | 'metadata';

const FIELDS: { key: ListKey; label: string; placeholder: string }[] = [
  { key: 'actions', label: 'Action', placeholder: 'user.signed_in' },
  { key: 'actorIds', label: 'Actor ID', placeholder: 'user_01H…' },
  { key: 'actorNames', label: 'Actor name', placeholder: 'Jane Doe' },
  { key: 'targetIds', label: 'Target ID', placeholder: 'document_42' },
  { key: 'targetTypes', label: 'Target type', placeholder: 'document' },
  { key: 'metadata', label: 'Metadata', placeholder: 'value' },
];

const CHIP_LABEL: Record<ListKey, string> = {
  actions: 'Action',
  actorIds: 'Actor ID',
  actorNames: 'Actor',
  targetIds: 'Target ID',
  targetTypes: 'Target type',
  metadata: 'Metadata',
};

/** Closes a popover on Escape or a click outside it, and returns focus to its trigger. */
function usePopover(open: boolean, close: () => void, trigger: RefObject<HTMLButtonElement | null>) {
  const panel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        close();
        trigger.current?.focus();
      }
    };
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!panel.current?.contains(target) && !trigger.current?.contains(target)) close();
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open, close, trigger]);
  return panel;
}

export function FilterBar({
  filters,
  onChange,
  actionSuggestions,
  leading,
  trailing,
}: {
  filters: EventFilterState;
  onChange: (next: EventFilterState) => void;
  actionSuggestions: string[];
  leading?: ReactNode;
  trailing?: ReactNode;
}) {
  const [text, setText] = useState(filters.q);
  const searchRef = useRef<HTMLInputElement>(null);
  useEffect(() => setText(filters.q), [filters.q]);

  // Debounced free-text search: the URL (and the query) follow 300 ms after typing stops.
  useEffect(() => {
    if (text === filters.q) return;
    const timer = setTimeout(() => onChange({ ...filters, q: text }), 300);
    return () => clearTimeout(timer);
  }, [text, filters, onChange]);

  // "/" focuses search, as in most dashboards.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.key === '/' && target?.tagName !== 'INPUT' && target?.tagName !== 'TEXTAREA' && target?.tagName !== 'SELECT') {
        event.preventDefault();
        searchRef.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const chips: { key: ListKey; value: string }[] = FIELDS.flatMap(({ key }) => filters[key].map((value) => ({ key, value })));
  const count = activeFilterCount(filters);

  return (
    <div className="stack" style={{ gap: 10 }}>
      <div className="toolbar">
        {leading}
        <div className="input-group grow">
          <Search aria-hidden="true" />
          <input
            ref={searchRef}
            className="input"
            type="search"
            placeholder="Search events…"
            aria-label="Search events"
            maxLength={SEARCH_MAX_LENGTH}
            value={text}
            onChange={(event) => setText(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') onChange({ ...filters, q: text });
            }}
          />
          {text === '' && <kbd aria-hidden="true">/</kbd>}
        </div>
        <RangePicker filters={filters} onChange={onChange} />
        <AddFilter filters={filters} onChange={onChange} actionSuggestions={actionSuggestions} count={count} />
        {trailing}
      </div>
      {chips.length > 0 && (
        <div className="chips" aria-label="Active filters">
          {chips.map(({ key, value }) => (
            <span className="chip" key={`${key}:${value}`}>
              {CHIP_LABEL[key]}
              {key === 'metadata' ? '' : ' is'} <b>{value}</b>
              <button
                type="button"
                aria-label={`Remove filter ${CHIP_LABEL[key]} ${value}`}
                onClick={() => onChange({ ...filters, [key]: filters[key].filter((item) => item !== value) })}
              >
                <X aria-hidden="true" />
              </button>
            </span>
          ))}
          <Button size="sm" variant="ghost" onClick={() => onChange({ ...filters, actions: [], actorIds: [], actorNames: [], targetIds: [], targetTypes: [], metadata: [] })}>
            Clear filters
          </Button>
        </div>
      )}
    </div>
  );
}

function AddFilter({
  filters,
  onChange,
  actionSuggestions,
  count,
}: {
  filters: EventFilterState;
  onChange: (next: EventFilterState) => void;
  actionSuggestions: string[];
  count: number;
}) {
  const [open, setOpen] = useState(false);
  const [field, setField] = useState<ListKey>('actions');
  const [value, setValue] = useState('');
  const [metaKey, setMetaKey] = useState('');
  const trigger = useRef<HTMLButtonElement>(null);
  const panel = usePopover(open, () => setOpen(false), trigger);
  const id = useId();
  const spec = FIELDS.find((f) => f.key === field) ?? FIELDS[0];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = value.trim();
    if (trimmed === '' || (field === 'metadata' && metaKey.trim() === '')) return;
    const entry = field === 'metadata' ? `${metaKey.trim()}=${trimmed}` : trimmed;
    if (!filters[field].includes(entry)) onChange({ ...filters, [field]: [...filters[field], entry] });
    setValue('');
    setMetaKey('');
    setOpen(false);
    trigger.current?.focus();
  };

  return (
    <div className="popover-anchor">
      <Button ref={trigger} icon={<ListFilter />} aria-expanded={open} aria-haspopup="dialog" onClick={() => setOpen((o) => !o)}>
        Filter
        {count > 0 && <span className="badge badge-accent" style={{ height: 18, padding: '0 6px' }}>{count}</span>}
      </Button>
      {open && (
        <div className="popover" ref={panel} role="dialog" aria-label="Add a filter">
          <form className="form-stack" onSubmit={submit} style={{ gap: 12 }}>
            <div className="field">
              <label className="field-label" htmlFor={`${id}-field`}>
                Field
              </label>
              <select id={`${id}-field`} className="select" value={field} onChange={(event) => setField(event.target.value as ListKey)} autoFocus>
                {FIELDS.map((f) => (
                  <option key={f.key} value={f.key}>
                    {f.label}
                  </option>
                ))}
              </select>
            </div>
            {field === 'metadata' && (
              <div className="field">
                <label className="field-label" htmlFor={`${id}-key`}>
                  Metadata key
                </label>
                <input id={`${id}-key`} className="input mono" placeholder="plan" value={metaKey} pattern="[a-zA-Z0-9_\-]{1,40}" onChange={(event) => setMetaKey(event.target.value)} />
              </div>
            )}
            <div className="field">
              <label className="field-label" htmlFor={`${id}-value`}>
                {field === 'metadata' ? 'Value' : spec?.label}
              </label>
              <input
                id={`${id}-value`}
                className="input"
                placeholder={spec?.placeholder}
                value={value}
                list={field === 'actions' ? `${id}-actions` : undefined}
                onChange={(event) => setValue(event.target.value)}
              />
              {field === 'actions' && (
                <datalist id={`${id}-actions`}>
                  {actionSuggestions.map((action) => (
                    <option key={action} value={action} />
                  ))}
                </datalist>
              )}
            </div>
            <div className="form-actions">
              <Button type="submit" variant="primary" size="sm" icon={<Plus />}>
                Add filter
              </Button>
            </div>
          </form>
        </div>
      )}
    </div>
  );
}

/**
 * The time range. A custom range applies as a pair: on Enter or Apply, and when a field loses focus, From
 * and To together (until now each field applied only itself, on blur, so a To typed and confirmed with
 * Enter was never used).
 */
function RangePicker({ filters, onChange }: { filters: EventFilterState; onChange: (next: EventFilterState) => void }) {
  const id = useId();
  const [from, setFrom] = useState(filters.from ? toLocalInput(filters.from) : '');
  const [to, setTo] = useState(filters.to ? toLocalInput(filters.to) : '');
  const [problem, setProblem] = useState<{ field: 'from' | 'to'; message: string } | null>(null);
  // The URL may change underneath (a shared link, back and forward): the fields show what is applied.
  useEffect(() => setFrom(filters.from ? toLocalInput(filters.from) : ''), [filters.from]);
  useEffect(() => setTo(filters.to ? toLocalInput(filters.to) : ''), [filters.to]);

  const apply = (explicit: boolean) => {
    const range = customRange(from, to);
    if ('problem' in range) {
      // Leaving a field mid-way (From now after the old To) is not yet a mistake; asking to apply it is.
      if (explicit) setProblem({ field: range.field, message: range.problem });
      return;
    }
    setProblem(null);
    if (range.from !== filters.from || range.to !== filters.to) onChange({ ...filters, from: range.from, to: range.to });
  };

  return (
    <>
      <div className="input-group" style={{ width: 178 }}>
        <Calendar aria-hidden="true" />
        <select
          className="select"
          style={{ paddingLeft: 32 }}
          aria-label="Time range"
          value={filters.range}
          onChange={(event) => onChange({ ...filters, range: event.target.value as RangePreset })}
        >
          {(Object.keys(RANGE_LABELS) as RangePreset[]).map((key) => (
            <option key={key} value={key}>
              {RANGE_LABELS[key]}
            </option>
          ))}
        </select>
      </div>
      {filters.range === 'custom' && (
        <form
          className="row"
          role="group"
          aria-label="Custom time range"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            apply(true);
          }}
        >
          <label className="sr-only" htmlFor={`${id}-from`}>
            From
          </label>
          <input
            id={`${id}-from`}
            className="input"
            type="datetime-local"
            style={{ width: 200 }}
            value={from}
            aria-invalid={problem?.field === 'from'}
            aria-describedby={problem?.field === 'from' ? `${id}-problem` : undefined}
            onChange={(event) => {
              setFrom(event.target.value);
              setProblem(null);
            }}
            onBlur={() => apply(false)}
          />
          <span className="muted">–</span>
          <label className="sr-only" htmlFor={`${id}-to`}>
            To
          </label>
          <input
            id={`${id}-to`}
            className="input"
            type="datetime-local"
            style={{ width: 200 }}
            value={to}
            aria-invalid={problem?.field === 'to'}
            aria-describedby={problem?.field === 'to' ? `${id}-problem` : undefined}
            onChange={(event) => {
              setTo(event.target.value);
              setProblem(null);
            }}
            onBlur={() => apply(false)}
          />
          <Button type="submit" size="sm">
            Apply
          </Button>
          {problem !== null && (
            <span className="field-error" id={`${id}-problem`} role="alert">
              {problem.message}
            </span>
          )}
        </form>
      )}
    </>
  );
}
