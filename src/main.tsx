import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startHashSync } from './state/hashSync';
import { playgroundStore } from './state/store';
import { App } from './ui/App';
import { CapabilityGate } from './ui/CapabilityGate';
import './ui/styles.css';

// Read the link before the first render so the page never flashes the defaults.
startHashSync(playgroundStore);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <CapabilityGate>
      <App />
    </CapabilityGate>
  </StrictMode>,
);
