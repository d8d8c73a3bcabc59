// First: configures zod before any schema parses (see the file).
import '../zod-config.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { OpsClient } from './ops-client.ts';
import { OpsApp } from './ops-app.tsx';
import './ops.css';

// The operations page, a second entry of the client build (ops.html), served at /ops behind OPS_TOKEN.
// One client for the page's life, outside React (StrictMode mounts twice).
const client = new OpsClient();
client.start();

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');
createRoot(root).render(
  <StrictMode>
    <OpsApp client={client} />
  </StrictMode>,
);
