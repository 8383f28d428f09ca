import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  selfSigned: boolean;
}

/**
 * The TLS certificate for SMTP (and later HTTPS): the configured files, or a self-signed certificate
 * created in `<dataDir>/tls/` on first start (EC P-256, ten years, SAN = hostname and localhost).
 * Clients must be told to accept it once; production installs configure a real certificate.
 */
export async function loadOrCreateTls(input: {
  dataDir: string;
  hostname: string;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}): Promise<TlsMaterial> {
  if (input.certFile || input.keyFile) {
    if (!input.certFile || !input.keyFile) throw new Error('set both SEALPOST_TLS_CERT and SEALPOST_TLS_KEY');
    return { cert: readFileSync(input.certFile), key: readFileSync(input.keyFile), selfSigned: false };
  }
  const dir = path.join(input.dataDir, 'tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { cert: readFileSync(certFile), key: readFileSync(keyFile), selfSigned: true };
  }
  const pems = await selfSigned(input.hostname);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, pems.key, { mode: 0o600 });
  writeFileSync(certFile, pems.cert, { mode: 0o600 }); // public, but the data folder is private throughout
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.key), selfSigned: true };
}

export async function selfSigned(hostname: string): Promise<{ key: string; cert: string }> {
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 10);
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
