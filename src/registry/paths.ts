import path from 'node:path';

/** Where everything under SGW_CERTS_DIR lives; the file names are fixed by the contract (section 13). */
export function certPaths(certsDir: string) {
  return {
    caCert: path.join(certsDir, 'ca.crt'),
    caKey: path.join(certsDir, 'ca.key'),
    serverCert: path.join(certsDir, 'server.crt'),
    serverKey: path.join(certsDir, 'server.key'),
    ledgerKey: path.join(certsDir, 'ledger-signing.key'),
    ledgerPub: path.join(certsDir, 'ledger-signing.pub'),
    subjectKey: path.join(certsDir, 'subject-hmac.key'),
    registry: path.join(certsDir, 'registry.json'),
    agencyDir: (id: string) => path.join(certsDir, 'agencies', id),
    clientCert: (id: string) => path.join(certsDir, 'agencies', id, 'client.crt'),
    clientKey: (id: string) => path.join(certsDir, 'agencies', id, 'client.key'),
    jwtSigningKey: (id: string) => path.join(certsDir, 'agencies', id, 'jwt-signing.key'),
    webhookSecret: (id: string) => path.join(certsDir, 'agencies', id, 'webhook.secret'),
  };
}

export type CertPaths = ReturnType<typeof certPaths>;
