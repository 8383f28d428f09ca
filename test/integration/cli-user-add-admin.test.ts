import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import { openDb } from '../../core/db/index.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * `sealpost user add ADDRESS --admin` as the acceptance check uses it (docs/console.md): the password on
 * stdin, the TOTP enrolment printed once — a QR code for the terminal and the otpauth:// URI — and the
 * factor enabled at once, its secret sealed at rest; `user totp-reset` drops it.
 */
const ADMIN = 'chef@praxis.example';

describe('cli: user add --admin prints the TOTP enrolment once', function () {
  this.timeout(120_000);

  it('prints QR and URI, enables TOTP with the secret sealed, and totp-reset drops it', async () => {
    const tmp = tmpDir('sealpost-cli-admin-');
    try {
      const add = await sealpostCli(tmp.dir, ['user', 'add', ADMIN, '--admin'], 'chef-password-long\n');
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /added admin chef@praxis\.example/);
      const uri = /otpauth:\/\/totp\/\S+/.exec(add.stdout)?.[0];
      assert.ok(uri, 'the otpauth URI is printed');
      assert.match(add.stdout, /[█▀▄]{10}/, 'a QR code in block characters');
      const totp = OTPAuth.URI.parse(uri) as OTPAuth.TOTP;
      assert.equal(totp.label, ADMIN);
      assert.equal(totp.issuer, 'Sealpost');
      const secret = totp.secret.base32;
      assert.ok(!readFileSync(path.join(tmp.dir, 'sealpost.db')).includes(secret), 'sealed at rest');

      const db = await openDb({ sqliteFile: path.join(tmp.dir, 'sealpost.db') });
      try {
        const row = await db.kysely.selectFrom('console_totp').selectAll().executeTakeFirstOrThrow();
        assert.ok(row.enabled_at, 'enabled at once');
      } finally {
        await db.close();
      }
      const list = await sealpostCli(tmp.dir, ['user', 'list']);
      assert.match(list.stdout, /chef@praxis\.example \(admin\)/);

      const reset = await sealpostCli(tmp.dir, ['user', 'totp-reset', ADMIN]);
      assert.equal(reset.code, 0, reset.stderr);
      const db2 = await openDb({ sqliteFile: path.join(tmp.dir, 'sealpost.db') });
      try {
        assert.equal(await db2.kysely.selectFrom('console_totp').selectAll().executeTakeFirst(), undefined);
      } finally {
        await db2.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
