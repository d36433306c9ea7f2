import { useLayoutEffect, useRef } from 'react';
import { timingBadge } from '../panels';
import { usePlayground } from '../state/store';

export function TimingBadge() {
  const timing = usePlayground((s) => s.run.output?.forward.timing);
  const adapter = usePlayground((s) => s.run.output?.adapterDescription);
  const host = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    host.current?.replaceChildren(...(timing ? [timingBadge(timing)] : []));
  }, [timing]);
  return <span className="timing" data-testid="timing" ref={host} title={adapter} />;
}
