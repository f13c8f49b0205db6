/**
 * The demo tenant, set up through the admin API exactly as an operator would: the tenant,
 * its S/MIME certificate (PKCS#12), its upstream (the demo sink) and SMTP credentials.
 */
import type { AdminClient } from './admin-client';
import type { DemoPki } from './demo-pki';

export interface DemoTenant {
  id: string;
  name: string;
  /** The addresses the uploaded certificate covers. */
  certificateFor: string[];
  username: string;
  password: string;
}

export async function setUpDemoTenant(
  admin: AdminClient,
  pki: DemoPki,
  sinkPort: number,
): Promise<DemoTenant> {
  const tenant = await admin.request<{ id: string; name: string }>('POST', '/v1/tenants', {
    name: 'Demo News',
    signingPolicy: 'require',
  });
  const base = `/v1/tenants/${tenant.id}`;
  const certificate = await admin.request<{ emailAddresses: string[] }>(
    'POST',
    `${base}/certificates`,
    { pkcs12: pki.pkcs12.toString('base64'), password: pki.password },
  );
  await admin.request('PUT', `${base}/delivery`, {
    transport: 'smtp',
    host: '127.0.0.1',
    port: sinkPort,
    secure: false,
  });
  const credentials = await admin.request<{ username: string; password: string }>(
    'POST',
    `${base}/smtp-credentials`,
    { label: 'demo' },
  );
  return {
    id: tenant.id,
    name: tenant.name,
    certificateFor: certificate.emailAddresses,
    username: credentials.username,
    password: credentials.password,
  };
}
