import { AlertCircle } from 'lucide-react';
import { cloneElement, isValidElement, useId, type ReactElement, type ReactNode } from 'react';

interface FieldProps {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  optional?: boolean;
  className?: string;
  /**
   * One form control, which receives id, aria-describedby and aria-invalid; or a function that places
   * those props on a control nested in other markup.
   */
  children: ReactElement<Record<string, unknown>> | ((props: ControlProps) => ReactNode);
}

export interface ControlProps {
  id: string;
  'aria-describedby': string | undefined;
  'aria-invalid': true | undefined;
}

/** A labelled control with its hint and its error, wired for screen readers. */
export function Field({ label, hint, error, optional = false, className, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint !== undefined ? hintId : '', error !== undefined ? errorId : ''].filter(Boolean).join(' ') || undefined;
  const props: ControlProps = { id, 'aria-describedby': describedBy, 'aria-invalid': error !== undefined ? true : undefined };
  const control = typeof children === 'function' ? children(props) : isValidElement(children) ? cloneElement(children, { ...props }) : children;
  return (
    <div className={`field ${className ?? ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
        {optional && <span className="field-optional">Optional</span>}
      </label>
      {control}
      {error !== undefined ? (
        <div className="field-error" id={errorId} role="alert">
          <AlertCircle aria-hidden="true" />
          {error}
        </div>
      ) : (
        hint !== undefined && (
          <div className="field-hint" id={hintId}>
            {hint}
          </div>
        )
      )}
    </div>
  );
}
