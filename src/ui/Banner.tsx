import type { ReactNode } from 'react';

interface BannerProps {
  tone: 'info' | 'warning' | 'error';
  testId: string;
  /** 'alert' for what stops the page, 'status' for what it did on its own; none for standing notes. */
  role?: 'alert' | 'status';
  /** Shows a Dismiss button. */
  onDismiss?: () => void;
  children: ReactNode;
}

/** A message above the panels: a note, a warning or an error, optionally dismissable. */
export function Banner({ tone, testId, role, onDismiss, children }: BannerProps) {
  return (
    <div className={`banner banner-${tone}`} role={role} data-testid={testId}>
      {children}
      {onDismiss && (
        <>
          {' '}
          <button type="button" onClick={onDismiss}>
            Dismiss
          </button>
        </>
      )}
    </div>
  );
}
