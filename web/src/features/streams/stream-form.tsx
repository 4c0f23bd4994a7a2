import { ChevronDown, ChevronRight, KeyRound } from 'lucide-react';
import { useState } from 'react';
import { ApiError } from '../../lib/api';
import type { LogStream } from '../../lib/types';
import { Button } from '../../ui/button';
import { Field, type ControlProps } from '../../ui/field';
import type { DestinationSpec, FieldSpec } from './destinations';

export type FormValues = Record<string, string | boolean>;

/**
 * The form value that marks a saved optional secret (a signing secret, custom headers) for removal: a
 * blank secret field means "keep", so removing one needs a choice of its own.
 */
export function removalKey(fieldName: string): string {
  return `__remove_${fieldName}`;
}

export function initialValues(spec: DestinationSpec, stream?: LogStream): FormValues {
  const values: FormValues = { __name: stream?.name ?? '' };
  for (const field of spec.fields) {
    const current = stream?.config[field.name];
    if (field.kind === 'checkbox') values[field.name] = typeof current === 'boolean' ? current : field.defaultValue === true;
    else if (field.secret) values[field.name] = '';
    else if (typeof current === 'string' || typeof current === 'number') values[field.name] = String(current);
    else values[field.name] = typeof field.defaultValue === 'string' ? field.defaultValue : '';
  }
  return values;
}

function isUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function parseHeaders(text: string): Record<string, string> | string {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const index = line.indexOf(':');
    if (index <= 0) return `“${line.slice(0, 40)}” is not “Name: value”.`;
    const name = line.slice(0, index).trim();
    if (!/^[A-Za-z0-9-]{1,64}$/.test(name)) return `“${name.slice(0, 40)}” is not a valid header name.`;
    headers[name] = line.slice(index + 1).trim();
  }
  return headers;
}

/**
 * Field-level checks before the request; the API's 422 remains the authority. `saved` is the stream's
 * shown config when editing: a changed URL needs its saved secrets entered again.
 */
export function validate(spec: DestinationSpec, values: FormValues, secretsSet: string[] = [], saved?: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of spec.fields) {
    const raw = values[field.name];
    if (field.kind === 'checkbox' || values[removalKey(field.name)] === true) continue;
    const value = typeof raw === 'string' ? raw.trim() : '';
    if (value === '') {
      if (field.required && !(field.secret && secretsSet.includes(field.name))) errors[field.name] = `${field.label} is required.`;
      continue;
    }
    if (field.kind === 'headers') {
      const parsed = parseHeaders(value);
      if (typeof parsed === 'string') errors[field.name] = parsed;
      continue;
    }
    if (field.kind === 'number') {
      const number = Number(value);
      if (!Number.isInteger(number) || (field.min !== undefined && number < field.min) || (field.max !== undefined && number > field.max)) {
        errors[field.name] = `Enter a whole number from ${field.min ?? 0} to ${field.max ?? '∞'}.`;
      }
      continue;
    }
    if (field.url && !isUrl(value)) {
      errors[field.name] = 'Enter a full URL starting with https:// (recommended) or http://';
      continue;
    }
    if (field.maxLength !== undefined && value.length > field.maxLength) {
      errors[field.name] = `At most ${field.maxLength} characters.`;
      continue;
    }
    if (field.pattern !== undefined && !new RegExp(field.pattern).test(value)) {
      errors[field.name] = field.patternMessage ?? 'This value is not valid.';
      continue;
    }
    const problem = field.validate?.(value);
    if (problem !== undefined) errors[field.name] = problem;
  }
  // A blank field the API fills with its default (a GCS endpoint, a Sentinel authority) has not moved.
  const effective = (field: FieldSpec, value: unknown): string => textOf(value) || (field.serverDefault ?? '');
  const moved = saved === undefined ? undefined : spec.fields.find((field) => field.carriesSecrets && effective(field, values[field.name]) !== effective(field, saved[field.name]));
  if (moved !== undefined) {
    for (const field of spec.fields) {
      if (field.secret && secretsSet.includes(field.name) && textOf(values[field.name]) === '' && values[removalKey(field.name)] !== true) {
        errors[field.name] ??= `Enter it again: a saved secret is not sent to a changed ${moved.label}.`;
      }
    }
  }
  if (spec.type === 'S3' && typeof values.external_id === 'string' && values.external_id.trim() !== '' && String(values.role_arn ?? '').trim() === '') {
    errors.role_arn = 'An external ID needs an IAM role ARN.';
  }
  return errors;
}

/** A form value or a saved config value as the form shows it (URLs are strings; absent is blank). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/**
 * The config to send: blanks left out (so PATCH keeps stored secrets), numbers and headers parsed. When
 * editing (`saved`: the stream's shown config), an optional shown field the user emptied is sent as null,
 * which removes it, instead of being left out and kept; so is a saved secret marked for removal.
 */
export function toConfig(spec: DestinationSpec, values: FormValues, editing: boolean, saved?: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of spec.fields) {
    const raw = values[field.name];
    if (field.kind === 'checkbox') {
      if (raw === true || editing || field.name === 'tls') config[field.name] = raw === true;
      continue;
    }
    if (editing && values[removalKey(field.name)] === true) {
      config[field.name] = null;
      continue;
    }
    const value = typeof raw === 'string' ? raw.trim() : '';
    if (value === '') {
      if (editing && !field.secret && !field.required && textOf(saved?.[field.name]) !== '') config[field.name] = null;
      continue;
    }
    if (field.kind === 'number') config[field.name] = Number(value);
    else if (field.kind === 'headers') config[field.name] = parseHeaders(value);
    else config[field.name] = value;
  }
  return config;
}

/** The API's 422 errors[].field ("config.bucket") keyed by form field name. */
export function serverFieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const result: Record<string, string> = {};
  for (const item of error.errors) {
    if (item.field === undefined) continue;
    const name = item.field.startsWith('config.') ? (item.field.slice('config.'.length).split('.')[0] ?? item.field) : item.field === 'name' ? '__name' : item.field;
    result[name] ??= item.message ?? 'is invalid';
  }
  return result;
}

function Control({ field, value, onChange, onBlur, secretSaved, control }: { field: FieldSpec; value: string | boolean; onChange: (value: string | boolean) => void; onBlur: () => void; secretSaved: boolean; control: ControlProps }) {
  const common = { name: field.name, onBlur, ...control };
  switch (field.kind) {
    case 'select':
      return (
        <select className="select" {...common} value={String(value)} onChange={(event) => onChange(event.target.value)}>
          {!field.required && <option value="">Default</option>}
          {field.options?.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      );
    case 'textarea':
    case 'headers':
      return <textarea className="textarea mono" {...common} rows={4} placeholder={secretSaved ? 'Saved — leave blank to keep' : field.placeholder} value={String(value)} onChange={(event) => onChange(event.target.value)} spellCheck={false} />;
    case 'number':
      return <input className="input" type="number" inputMode="numeric" {...common} min={field.min} max={field.max} placeholder={field.placeholder} value={String(value)} onChange={(event) => onChange(event.target.value)} />;
    default:
      return (
        <input
          className={`input ${field.kind === 'password' || field.name.endsWith('_id') ? 'mono' : ''}`}
          type={field.kind === 'password' ? 'password' : 'text'}
          autoComplete={field.kind === 'password' ? 'new-password' : 'off'}
          spellCheck={false}
          {...common}
          placeholder={secretSaved ? '•••••••• saved — leave blank to keep' : field.placeholder}
          value={String(value)}
          onChange={(event) => onChange(event.target.value)}
        />
      );
  }
}

/**
 * A secret Verity can generate (a webhook signing secret) is one the receiver must be given too, and it is
 * never shown again once saved: a generated value is shown in clear, with a Copy button, until then.
 */
function GeneratedSecret({ field, value, onChange, onBlur, secretSaved, control }: { field: FieldSpec; value: string | boolean; onChange: (value: string) => void; onBlur: () => void; secretSaved: boolean; control: ControlProps }) {
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState(false);
  const text = String(value);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      // No clipboard (a page not served over https): select the value so it can be copied by hand.
      document.querySelector<HTMLInputElement>(`input[name="${field.name}"]`)?.select();
    }
  };
  return (
    <div>
      <div className="row">
        <Control field={shown ? { ...field, kind: 'text' } : field} value={value} onChange={(next) => onChange(String(next))} onBlur={onBlur} secretSaved={secretSaved} control={control} />
        <Button
          size="md"
          onClick={() => {
            onChange(field.generate?.() ?? '');
            setShown(true);
            setCopied(false);
          }}
        >
          Generate
        </Button>
        {shown && text !== '' && (
          <Button size="md" onClick={() => void copy()}>
            {copied ? 'Copied' : 'Copy'}
          </Button>
        )}
      </div>
      {shown && text !== '' && <div className="field-hint">Copy it now and give it to your receiver to verify signatures: once saved, it is never shown again.</div>}
    </div>
  );
}

/** The destination's fields, with hints, client-side checks on blur and the API's field errors. */
export function StreamFields({
  spec,
  values,
  onChange,
  errors,
  secretsSet = [],
  onBlurField,
}: {
  spec: DestinationSpec;
  values: FormValues;
  onChange: (values: FormValues) => void;
  errors: Record<string, string>;
  secretsSet?: string[];
  onBlurField?: (name: string) => void;
}) {
  const hasAdvancedError = spec.fields.some((f) => f.advanced && errors[f.name] !== undefined);
  const [advanced, setAdvanced] = useState(false);
  const showAdvanced = advanced || hasAdvancedError;
  const render = (field: FieldSpec) => {
    const value = values[field.name] ?? '';
    const set = (next: string | boolean) => onChange({ ...values, [field.name]: next });
    if (field.kind === 'checkbox') {
      return (
        <div className="field span-2" key={field.name}>
          <label className="checkbox">
            <input type="checkbox" name={field.name} checked={value === true} onChange={(event) => set(event.target.checked)} />
            {field.label}
          </label>
          {field.hint !== undefined && <div className="field-hint">{field.hint}</div>}
        </div>
      );
    }
    const wide = field.kind === 'textarea' || field.kind === 'headers' || field.url === true || field.generate !== undefined;
    return (
      <Field
        key={field.name}
        className={wide ? 'span-2' : undefined}
        label={
          <>
            {field.label}
            {field.secret && <KeyRound width={12} height={12} aria-label="encrypted" />}
          </>
        }
        optional={!field.required}
        hint={field.hintFor?.(values) ?? field.hint}
        error={errors[field.name]}
      >
        {(control) => {
          const secretSaved = secretsSet.includes(field.name);
          const removing = values[removalKey(field.name)] === true;
          const input = removing ? (
            <input className="input" {...control} name={field.name} disabled value="" placeholder="Removed when you save" />
          ) : field.generate ? (
            <GeneratedSecret field={field} value={value} onChange={set} onBlur={() => onBlurField?.(field.name)} secretSaved={secretSaved} control={control} />
          ) : (
            <Control field={field} value={value} onChange={set} onBlur={() => onBlurField?.(field.name)} secretSaved={secretSaved} control={control} />
          );
          if (!(field.secret === true && field.required !== true && secretSaved)) return input;
          // A blank secret field keeps what is saved; taking it away is a choice of its own.
          return (
            <div className="form-stack-tight">
              {input}
              <label className="checkbox">
                <input
                  type="checkbox"
                  name={removalKey(field.name)}
                  checked={removing}
                  onChange={(event) => onChange({ ...values, [field.name]: '', [removalKey(field.name)]: event.target.checked })}
                />
                Remove the saved {field.label.toLowerCase()}
              </label>
            </div>
          );
        }}
      </Field>
    );
  };
  const basic = spec.fields.filter((f) => !f.advanced);
  const extra = spec.fields.filter((f) => f.advanced);
  return (
    <div className="form-stack">
      <div className="form-grid">
        <Field className="span-2" label="Name" optional hint="Shown in lists, e.g. “Production SIEM”." error={errors.__name}>
          <input className="input" name="__name" value={String(values.__name ?? '')} maxLength={200} onChange={(event) => onChange({ ...values, __name: event.target.value })} />
        </Field>
        {basic.map(render)}
      </div>
      {extra.length > 0 && (
        <div>
          <Button variant="ghost" size="sm" icon={showAdvanced ? <ChevronDown /> : <ChevronRight />} aria-expanded={showAdvanced} onClick={() => setAdvanced(!showAdvanced)}>
            Advanced settings
          </Button>
          {showAdvanced && (
            <div className="form-grid" style={{ marginTop: 12 }}>
              {extra.map(render)}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
