import { useMutation, useQueryClient } from '@tanstack/react-query';
import { AlertTriangle, ArrowLeft, ArrowRight, Check, Send } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { ApiError, api, errorMessage } from '../../lib/api';
import type { LogStream, TestResult } from '../../lib/types';
import { Button } from '../../ui/button';
import { Field } from '../../ui/field';
import { DESTINATIONS, DestinationLogo, destinationSpec, type DestinationSpec } from './destinations';
import { initialValues, serverFieldErrors, StreamFields, toConfig, validate, type FormValues } from './stream-form';
import { TestResultPanel } from './stream-status';

function Steps({ step }: { step: 1 | 2 | 3 }) {
  const items = ['Choose destination', 'Connect', 'Test & save'];
  return (
    <ol className="steps" aria-label="Setup steps">
      {items.map((label, index) => {
        const n = index + 1;
        return (
          <li key={label} aria-current={n === step ? 'step' : undefined} className={n < step ? 'done' : undefined}>
            <span className="step-num">{n < step ? <Check width={12} height={12} aria-hidden="true" /> : n}</span>
            {label}
          </li>
        );
      })}
    </ol>
  );
}

export function DestinationPicker({ value, onPick }: { value?: string; onPick: (spec: DestinationSpec) => void }) {
  return (
    <div className="dest-grid" role="group" aria-label="Destinations">
      {DESTINATIONS.map((spec) => (
        <button key={spec.type} type="button" className="dest-card" aria-pressed={value === spec.type} onClick={() => onPick(spec)}>
          <DestinationLogo type={spec.type} />
          <span className="cell-stack">
            <span className="name">{spec.label}</span>
            <span className="desc">{spec.description}</span>
          </span>
        </button>
      ))}
    </div>
  );
}

/**
 * Set up (or edit) a log stream: pick a destination, follow the provider steps, fill the form, then
 * "Save and test": the stream is saved, one marked test event is sent and the destination's answer shown.
 * On a failure the form stays open and says the stream was saved anyway (it is live and delivering): fix a
 * field and test again (the saved stream is updated in place).
 */
export function StreamSetup({
  organizationId,
  existing,
  onDone,
  onCancel,
  doneLabel = 'Done — view stream',
}: {
  organizationId: string;
  existing?: LogStream;
  onDone: (stream: LogStream) => void;
  onCancel?: () => void;
  /** The button that ends a tested setup. */
  doneLabel?: string;
}) {
  const client = useQueryClient();
  const [spec, setSpec] = useState<DestinationSpec | undefined>(existing ? destinationSpec(existing.type) : undefined);
  const [values, setValues] = useState<FormValues>(() => (spec ? initialValues(spec, existing) : {}));
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [saved, setSaved] = useState<LogStream | undefined>(existing);
  const [result, setResult] = useState<TestResult | null>(null);
  // The stream was saved but the test request itself failed (not the destination's answer: Verity's).
  const [testError, setTestError] = useState<string | null>(null);
  // Whether a test ran in this form session: until then, editing a stream offers a first test, not "again".
  const [tested, setTested] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  // Where a new stream starts: new events only, every stored event, or events from a date (start_from).
  const [startFrom, setStartFrom] = useState<'now' | 'beginning' | 'date'>('now');
  const [startDate, setStartDate] = useState('');

  const clientErrors: Record<string, string> = spec ? validate(spec, values, saved?.secrets_set, saved?.config) : {};
  if (!saved && startFrom === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(startDate)) clientErrors.__start = 'Choose the date to send events from.';
  const visibleErrors: Record<string, string> = { ...serverErrors };
  for (const [name, message] of Object.entries(clientErrors)) if (submitted || touched.has(name)) visibleErrors[name] = message;

  const save = useMutation({
    mutationFn: async () => {
      if (spec === undefined) throw new Error('Choose a destination first.');
      const name = String(values.__name ?? '').trim();
      const stream = saved
        ? await api.patch<LogStream>(`/log_streams/${encodeURIComponent(saved.id)}`, { config: toConfig(spec, values, true, saved.config), name: name === '' ? null : name })
        : await api.post<LogStream>('/log_streams', {
            organization_id: organizationId,
            type: spec.type,
            config: toConfig(spec, values, false),
            start_from: startFrom === 'date' ? new Date(`${startDate}T00:00:00`).toISOString() : startFrom,
            ...(name === '' ? {} : { name }),
          });
      setSaved(stream);
      try {
        return { stream, test: await api.post<TestResult>(`/log_streams/${encodeURIComponent(stream.id)}/test`), testError: null };
      } catch (error) {
        return { stream, test: null, testError: errorMessage(error) };
      }
    },
    onMutate: () => {
      setServerErrors({});
      setFormError(null);
      setResult(null);
      setTestError(null);
    },
    onSuccess: ({ stream, test, testError: failure }) => {
      setResult(test);
      setTestError(failure);
      setTested(true);
      // Secrets are now stored: blank the inputs so "leave blank to keep" applies from here on.
      setValues((current) => {
        const next = { ...current };
        for (const field of spec?.fields ?? []) if (field.secret) next[field.name] = '';
        return next;
      });
      setSaved(stream);
      void client.invalidateQueries({ queryKey: ['streams'] });
    },
    onError: (error) => {
      const fields = serverFieldErrors(error);
      setServerErrors(fields);
      setFormError(Object.keys(fields).length > 0 ? 'Some fields need attention.' : errorMessage(error));
      if (error instanceof ApiError && error.status === 422 && Object.keys(fields).length > 0) {
        document.querySelector<HTMLElement>(`[name="${Object.keys(fields)[0] ?? ''}"]`)?.focus();
      }
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(clientErrors).length > 0) {
      document.querySelector<HTMLElement>(`[name="${Object.keys(clientErrors)[0] ?? ''}"]`)?.focus();
      return;
    }
    save.mutate();
  };

  if (spec === undefined) {
    return (
      <div className="stack" style={{ gap: 20 }}>
        <Steps step={1} />
        <div>
          <h2>Where should audit logs go?</h2>
          <p className="text-secondary" style={{ marginTop: 4 }}>
            Events are delivered in order, within seconds, and retried until your destination accepts them.
          </p>
        </div>
        <DestinationPicker
          onPick={(picked) => {
            setSpec(picked);
            setValues(initialValues(picked));
          }}
        />
        {onCancel && (
          <div>
            <Button variant="ghost" icon={<ArrowLeft />} onClick={onCancel}>
              Cancel
            </Button>
          </div>
        )}
      </div>
    );
  }

  const instructions = spec.instructions(values);
  const step = result?.success ? 3 : 2;
  return (
    <div className="stack" style={{ gap: 20 }}>
      <Steps step={step} />
      <div className="row" style={{ gap: 12 }}>
        <DestinationLogo type={spec.type} />
        <div>
          <h2>{existing ? `Edit ${spec.label} stream` : `Connect ${spec.label}`}</h2>
          <p className="text-secondary text-sm">{spec.description}</p>
        </div>
        {!existing && !saved && (
          <Button variant="ghost" size="sm" style={{ marginLeft: 'auto' }} onClick={() => setSpec(undefined)} icon={<ArrowLeft />}>
            Change destination
          </Button>
        )}
      </div>
      <div className="grid setup-grid">
        <section className="card" aria-labelledby="setup-steps">
          <div className="card-header">
            <div>
              <h2 id="setup-steps">{spec.type === 'GenericHttps' || spec.type === 'Syslog' ? 'On your side' : `In ${spec.label}`}</h2>
              <p>What to set up before you connect</p>
            </div>
          </div>
          <div className="card-body">
            <ol className="instructions">
              {instructions.map((item, index) => (
                <li key={index}>{item}</li>
              ))}
            </ol>
          </div>
        </section>
        <form className="card" onSubmit={submit} noValidate aria-labelledby="setup-form">
          <div className="card-header">
            <h2 id="setup-form">Connection details</h2>
          </div>
          <div className="card-body stack" style={{ gap: 18 }}>
            <StreamFields
              spec={spec}
              values={values}
              onChange={(next) => {
                setValues(next);
                // An edited field's server error is stale.
                setServerErrors((errors) => Object.fromEntries(Object.entries(errors).filter(([name]) => next[name] === values[name])));
              }}
              errors={visibleErrors}
              secretsSet={saved?.secrets_set}
              onBlurField={(name) => setTouched((set) => new Set(set).add(name))}
            />
            {!saved && (
              <Field label="Events to send" hint={startFrom === 'now' ? 'Only events that happen after the stream is saved.' : 'Past events are sent first, oldest first, then new ones as they happen.'} error={visibleErrors.__start}>
                {(control) => (
                  <div className="row">
                    <select className="select" name="__start_from" {...control} value={startFrom} onChange={(event) => setStartFrom(event.target.value as 'now' | 'beginning' | 'date')}>
                      <option value="now">New events only, from now on</option>
                      <option value="beginning">Every stored event, then new ones</option>
                      <option value="date">Events from a date, then new ones</option>
                    </select>
                    {startFrom === 'date' && <input className="input" type="date" name="__start" aria-label="Send events from" value={startDate} max={localToday()} onChange={(event) => setStartDate(event.target.value)} />}
                  </div>
                )}
              </Field>
            )}
            {formError && (
              <div className="callout callout-red" role="alert">
                {formError}
              </div>
            )}
            {result && <TestResultPanel result={result} saved={saved} />}
            {testError !== null && (
              <div className="callout callout-red" role="alert" data-testid="test-result">
                <AlertTriangle aria-hidden="true" />
                <div className="stack-sm" style={{ minWidth: 0 }}>
                  <strong>{saved?.paused ? 'The stream was saved (it is paused), but the connection test could not run.' : 'The stream was saved and is active, but the connection test could not run.'}</strong>
                  <span style={{ overflowWrap: 'anywhere' }}>{testError}</span>
                </div>
              </div>
            )}
          </div>
          <div className="card-footer" style={{ justifyContent: 'flex-end', gap: 8 }}>
            {onCancel && !result?.success && (
              <Button variant="ghost" onClick={onCancel}>
                Cancel
              </Button>
            )}
            {result?.success && saved ? (
              <>
                <Button type="submit" loading={save.isPending} icon={<Send />}>
                  Test again
                </Button>
                <Button variant="primary" icon={<ArrowRight />} onClick={() => onDone(saved)}>
                  {doneLabel}
                </Button>
              </>
            ) : (
              <Button type="submit" variant="primary" loading={save.isPending} icon={<Send />}>
                {tested ? 'Save and test again' : 'Save and test connection'}
              </Button>
            )}
          </div>
        </form>
      </div>
    </div>
  );
}

/** Today as the browser's calendar has it (YYYY-MM-DD), for a date input's max: not the UTC date. */
function localToday(): string {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
}
