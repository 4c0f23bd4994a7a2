import { Fragment, type ReactNode } from 'react';
import { CopyButton } from './copy-button';

const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false)\b|\b(null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/** Pretty JSON with token colours; text stays selectable and copyable as plain JSON. */
export function JsonView({ value, label = 'Copy JSON' }: { value: unknown; label?: string }) {
  const text = JSON.stringify(value, null, 2);
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index;
    if (index > last) parts.push(text.slice(last, index));
    const [whole, string, colon, boolean, nil, number] = match;
    if (string !== undefined) {
      parts.push(
        <span key={index} className={colon !== undefined ? 'json-key' : 'json-string'}>
          {string}
        </span>,
      );
      if (colon !== undefined) parts.push(colon);
    } else if (boolean !== undefined) parts.push(<span key={index} className="json-boolean">{boolean}</span>);
    else if (nil !== undefined) parts.push(<span key={index} className="json-null">{nil}</span>);
    else if (number !== undefined) parts.push(<span key={index} className="json-number">{number}</span>);
    else parts.push(whole);
    last = index + whole.length;
  }
  parts.push(text.slice(last));
  return (
    <pre className="code" tabIndex={0} aria-label="JSON">
      <span className="copy-float">
        <CopyButton value={text} label={label} />
      </span>
      {parts.map((part, i) => (
        <Fragment key={i}>{part}</Fragment>
      ))}
    </pre>
  );
}
