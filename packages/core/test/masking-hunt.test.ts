import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';
import { EncodeReport } from '../src/payload/encode-report.js';

// Survivors of the session 6 hunt (hostile plants in every form and place): each test is a
// kind of leak that reached the recorded bytes before its fix.

const encoder = createMaskingEncoder({ hashKey: 'masking-hunt-test-hmac-key-012345' }, { logger: { warn() {} } });
const json = (v: unknown): string => encoder.json(v, { tool: 't', field: 'arguments', report: new EncodeReport() });
const text = (s: string): string => encoder.text(s, { tool: 't', field: 'error' });

/** An unshaped secret: only its key can give it away. */
const S = 'Zq8vLm3pXw2rTn6k';

describe('key=value in text', () => {
  it('reads a quoted key that is itself the value of the key before it', () => {
    expect(text(`error: "password": "${S}" end`)).toBe('error: "password": "[REDACTED:password]" end');
    expect(text(`error: 'client_secret': '${S}'`)).toBe("error: 'client_secret': '[REDACTED:client_secret]'");
  });

  it('reads single-dash flags and dotted flag names', () => {
    expect(text(`keytool -storepass ${S} -keypass ${S} -alias x`)).toBe('keytool -storepass [REDACTED:storepass] -keypass [REDACTED:keypass] -alias x');
    expect(text(`run -password ${S}`)).toBe('run -password [REDACTED:password]');
    expect(text(`app --auth.password ${S}`)).toBe('app --auth.password [REDACTED:password]');
    // A hyphenated word or a negative number is no flag.
    expect(text('a well-known token-free plan, -3 degrees')).toBe('a well-known token-free plan, -3 degrees');
  });

  it('reads XML elements named by a key or name attribute, and name/value attribute pairs', () => {
    expect(text(`<entry key="password">${S}</entry>`)).toBe('<entry key="password">[REDACTED:password]</entry>');
    expect(text(`<param name="api_key" type="s">${S}</param>`)).toBe('<param name="api_key" type="s">[REDACTED:api_key]</param>');
    expect(text(`<property name="db.password" value="${S}"/>`)).toBe('<property name="db.password" value="[REDACTED:password]"/>');
    expect(text('<entry key="timeout">30</entry>')).toBe('<entry key="timeout">30</entry>');
  });
});

describe('key names', () => {
  it('mask the short and split spellings configs use', () => {
    const out = json({ DB_PASS: S, pass_word: S, passWord: S, 'pass-word': S, pw: S, auth: S, creds: S, bearer: S, hmac_key: S, clientKey: S, recovery_key: S, JSESSIONID: S, PHPSESSID: S });
    expect(out).not.toContain(S);
    expect(JSON.parse(out)).toEqual({
      DB_PASS: '[REDACTED:pass]',
      pass_word: '[REDACTED:pass_word]',
      passWord: '[REDACTED:pass_word]',
      'pass-word': '[REDACTED:pass_word]',
      pw: '[REDACTED:pw]',
      auth: '[REDACTED:auth]',
      creds: '[REDACTED:creds]',
      bearer: '[REDACTED:bearer]',
      hmac_key: '[REDACTED:hmac_key]',
      clientKey: '[REDACTED:client_key]',
      recovery_key: '[REDACTED:recovery_key]',
      JSESSIONID: '[REDACTED:jsessionid]',
      PHPSESSID: '[REDACTED:phpsessid]',
    });
  });

  it('mask key material and ids by their short names, and names written in mixed case', () => {
    const keys = { 'x-functions-key': S, session_key: S, ENC_KEY: S, consumerKey: S, AZURE_STORAGE_KEY: S, privKey: S, tls_key: S, id_rsa: S, social_security: S, TIN: S, birthday: '1985-04-12', PaSsWoRd: S, pAsSwOrD: S };
    const out = json(keys);
    expect(out).not.toContain(S);
    expect(out).not.toContain('1985-04-12');
    expect(JSON.parse(out).PaSsWoRd).toBe('[REDACTED:password]');
    const kept = { access_key_id: 'AKIA-id-is-an-id', passwd_file: '/etc/passwd', ssn_last4: '1234', maxTokens: 5, tokenCount: 2 };
    expect(json(kept)).toBe(JSON.stringify(kept));
  });

  it('mask a rule word with a counter glued to it, and keep metadata and longer numbers', () => {
    expect(JSON.parse(json({ password1: S, token2: S, apiKey3: S }))).toEqual({ password1: '[REDACTED:password]', token2: '[REDACTED:token]', apiKey3: '[REDACTED:api_key]' });
    const kept = { auth_method: 'oauth', pass_rate: 0.97, auth_mode: 'sso', password_policy: 'strict', card_number_last4: '4242', PW481236: 'x' };
    expect(json(kept)).toBe(JSON.stringify(kept));
  });

  it('take prose words as keys in text only when they are more than the bare word', () => {
    for (const s of ['Bring your boarding pass: gate B42 closes at 9.', 'auth: ok, retrying']) expect(text(s)).toBe(s);
    expect(text(`DB_PASS: ${S}`)).toBe('DB_PASS: [REDACTED:pass]');
    expect(text(`pass=${S}`)).toBe('pass=[REDACTED:pass]');
    expect(text(`"auth": "${S}"`)).toBe('"auth": "[REDACTED:auth]"');
  });
});

describe('validators that narrow a candidate', () => {
  it('search the rest of it again: every copy of a repeated value is masked', () => {
    const amex = '3782-822463-10005';
    const out = text(Array(6).fill(amex).join(' '));
    expect(out).toBe(Array(6).fill('****0005').join(' '));
    const phones = text('020 7946 0018 020 7946 0018 03-1234-5678 03-1234-5678');
    expect(phones).toMatch(/^(?:\[phone:[0-9a-f]{12}\] ?){4}$/);
  });
});

describe('escapes in the normalised view', () => {
  const EMAIL = 'dana.whitfield@example.org';
  const GHP = `${'gh'}p_${'aZ7kQ2mX9pL4vR8tN3wY6bC1dF5gH0jK2sE4'}`;
  const entities = (s: string, hex: boolean): string => [...s].map((c) => (hex ? `&#x${c.charCodeAt(0).toString(16)};` : `&#${c.charCodeAt(0)};`)).join('');
  const tokenOf = (s: string): string => {
    const m = /\[email:[0-9a-f]{12}\]/.exec(text(s));
    return m === null ? 'none' : m[0];
  };

  it('reads HTML character references, decimal, hex and named, and masks the whole escaped value', () => {
    const plain = tokenOf(EMAIL);
    expect(plain).not.toBe('none');
    expect(text(`to ${entities(EMAIL, false)} now`)).toBe(`to ${plain} now`);
    expect(text(`to ${entities(EMAIL, true)} now`)).toBe(`to ${plain} now`);
    expect(text('to dana&period;whitfield&commat;example&period;org now')).toBe(`to ${plain} now`);
    expect(text(`<td>${entities(GHP, false)}</td>`)).toBe('<td>[REDACTED:github_token]</td>');
  });

  it('reads \\u and \\x escapes of JSON or JavaScript text that did not parse, in values and keys', () => {
    const escaped = EMAIL.replace(/[.@]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    expect(text(`{"to":"${escaped}", "cut`)).toBe(`{"to":"${tokenOf(EMAIL)}", "cut`);
    expect(text(`dana\\x2ewhitfield\\x40example.org`)).toBe(tokenOf(EMAIL));
    const out = json({ [`{"v":"${escaped}"}`]: 1 });
    expect(out).not.toContain('whitfield');
  });

  it('undoes percent-encoding and escapes applied more than once', () => {
    const once = encodeURIComponent(EMAIL);
    const twice = encodeURIComponent(once);
    expect(twice).toContain('%2540');
    expect(text(`q=${twice}&x=1`)).toBe(`q=${tokenOf(EMAIL)}&x=1`);
    expect(text(`q=${encodeURIComponent(twice)}`)).toBe(`q=${tokenOf(EMAIL)}`);
    expect(text(`u=${encodeURIComponent(encodeURIComponent(GHP))}`)).toBe('u=[REDACTED:github_token]');
    expect(text('dana.whitfield&amp;#64;example.org')).toBe(tokenOf(EMAIL));
    expect(JSON.parse(json({ 'pass%2577ord': S }))).toEqual({ 'pass%2577ord': '[REDACTED:password]' });
  });

  it('leaves ordinary ampersands, backslashes and references to other characters as they are', () => {
    for (const s of ['Tom &amp; Jerry &copy; 2026 R&D', 'a=1&b=2&c=3', 'C:\\Users\\dana\\x-files\\u2', 'price &#8364; 12.50', '100%25 done']) expect(text(s)).toBe(s);
  });
});

describe('underscores at the edge of a word', () => {
  it('do not hide the value they wrap (Markdown emphasis, dunder names)', () => {
    const GHP = `${'gh'}p_${'aZ7kQ2mX9pL4vR8tN3wY6bC1dF5gH0jK2sE4'}`;
    expect(text(`key: _${GHP}_ ok`)).toBe('key: _[REDACTED:github_token]_ ok');
    expect(text(`__${GHP}__`)).toBe('__[REDACTED:github_token]__');
    expect(text('SSN _536-22-1234_ on file')).toMatch(/^SSN _\[ssn:[0-9a-f]{12}\]_ on file$/);
    expect(text('_4111 1111 1111 1111_')).toBe('_****1111_');
    expect(text('mail _dana.whitfield@example.org_')).toMatch(/^mail _\[email:[0-9a-f]{12}\]_$/);
    expect(text('mail _dana.whitfield@example.org_.')).toMatch(/^mail _\[email:[0-9a-f]{12}\]_\.$/);
    // A `-_` inside a base64url body is no edge: blanking it would cut the token in two.
    const sendgrid = `SG.${'aZ7u35DKczOy2hWdilrmNV'}.${'aZ7n8KAOT8P41rdSVSPk2Ez7VhmjJh7-_yxcLnf-YZF'}`;
    expect(text(`_${sendgrid}_`)).toBe('_[REDACTED:sendgrid_api_key]_');
  });

  it('leave identifiers with underscores inside or at their edges alone', () => {
    for (const s of ['__init__ and _id and my_var_name', '_private_ __typename x86_64', 'INV_0042_2025_03 _v2.14.3_']) expect(text(s)).toBe(s);
  });
});

describe('shaped secrets after an assignment or before a full stop', () => {
  const AWS = ['wJalrXUtnFEMI', '/K7MDENG/bPxRfiCY', 'EXAMPLEKEY'].join('');
  const ENTRA = `99C8Q~${'ISCA_g9nPK_rQbk.ZB2kAtoySdYI5IW1-d'}`;

  it('mask an AWS-style secret and an Entra ID client secret as a query or assignment value', () => {
    expect(text(`https://x.example/p?q=${encodeURIComponent(AWS)}&z=1`)).toBe('https://x.example/p?q=[REDACTED:aws_secret_access_key]&z=1');
    expect(text(`q=${AWS}`)).toBe('q=[REDACTED:aws_secret_access_key]');
    expect(text(`value=${ENTRA}`)).toBe('value=[REDACTED:azure_ad_client_secret]');
  });

  it('mask an Entra ID client secret at the end of a sentence', () => {
    expect(text(`The new secret is ${ENTRA}. Rotate it.`)).toBe('The new secret is [REDACTED:azure_ad_client_secret]. Rotate it.');
  });
});

describe('values after a namespace dot (attribute names such as by.<value>)', () => {
  it('are masked for the tokens and addresses whose patterns refused a dot before them', () => {
    const VAULT = `hvs.${'NQPpjgM9fqVEpLDGtcK71Iox'}`;
    const GCP = `ya29.${'a0AfH6SMBx3kQ9zL2pV8nR4tY7wE1uI5oP0aS'}`;
    for (const [value, kind] of [[VAULT, 'vault_token'], [GCP, 'gcp_access_token']] as const) {
      expect(text(`by.${value}`)).toBe(`by.[REDACTED:${kind}]`);
    }
    expect(text('peer.203.0.113.42')).toMatch(/^peer\.\[ipv4:[0-9a-f]{12}\]$/);
    expect(text('peer.2001:db8:85a3::8a2e:370:7334')).toMatch(/^peer\.\[ipv6:[0-9a-f]{12}\]$/);
  });

  it('still leave a longer dotted number and a versioned path alone', () => {
    for (const s of ['10.0.19045.2965.1', 'build 2026.11.21.3', `/api/1.0/${'d41d8cd98f00b204e9800998ecf8427e'}`]) expect(text(s)).toBe(s);
  });
});

describe('connection strings and credentials written without a key=value', () => {
  const P = 'Tr0ub4dor-and-3';

  it('mask the password short flags of the database and remote-shell clients agents run', () => {
    expect(text(`mysql -u app -p${P} -h db orders`)).toBe('mysql -u app -p[REDACTED:password] -h db orders');
    expect(text(`mysqldump -uroot -p'${P}' shop`)).toBe("mysqldump -uroot -p'[REDACTED:password]' shop");
    expect(text(`sshpass -p ${P} ssh deploy@host`)).toBe('sshpass -p [REDACTED:password] ssh deploy@host');
    expect(text(`sshpass -p${P} scp a b:`)).toBe('sshpass -p[REDACTED:password] scp a b:');
    expect(text(`redis-cli -h cache -a ${P} ping`)).toBe('redis-cli -h cache -a [REDACTED:password] ping');
    expect(text(`mongosh "mongodb://db/x" -u app -p ${P}`)).toBe('mongosh "mongodb://db/x" -u app -p [REDACTED:password]');
    expect(text(`smbclient //srv/share -U alice%${P}`)).toBe('smbclient //srv/share -U alice%[REDACTED:password]');
    const argv = { cmd: ['sshpass', '-p', P, 'ssh', 'host'], db: ['mysql', '-uapp', `-p${P}`], cache: ['redis-cli', '-a', P, 'ping'] };
    expect(JSON.parse(json(argv))).toEqual({ cmd: ['sshpass', '-p', '[REDACTED:password]', 'ssh', 'host'], db: ['mysql', '-uapp', '-p[REDACTED:password]'], cache: ['redis-cli', '-a', '[REDACTED:password]', 'ping'] });
    // smbclient's user%password, after -U or glued to it; a number after redis-cli's -a.
    const smb = { a: ['smbclient', '//srv/share', '-U', `alice%${P}`], b: ['/usr/bin/smbclient', `-Ualice%${P}`], c: ['smbclient', '-U', 'alice'], d: ['redis-cli', '-a', 4242424242424] };
    expect(JSON.parse(json(smb))).toEqual({ a: ['smbclient', '//srv/share', '-U', 'alice%[REDACTED:password]'], b: ['/usr/bin/smbclient', '-Ualice%[REDACTED:password]'], c: ['smbclient', '-U', 'alice'], d: ['redis-cli', '-a', '[REDACTED:password]'] });
    // The same letters elsewhere are ports, paths and prompts.
    for (const s of ['ssh -p 2222 host', 'mysql -p', 'mkdir -p /tmp/x', 'docker run -p 8080:80 web', 'mysql -u app -p orders_db --host db']) expect(text(s)).toBe(s);
    expect(JSON.parse(json({ cmd: ['mkdir', '-p', '/srv/data'] }))).toEqual({ cmd: ['mkdir', '-p', '/srv/data'] });
  });

  it('reads the client pattern in linear time on 200 KB of client names and flags that lead nowhere', () => {
    // Each client name starts a bounded search (256 characters) for its flag: a search that ran
    // to the end of the text from every name would take seconds here.
    for (const unit of ['mysql -u a ', 'mongosh x -p -', 'smbclient -U ', 'redis-cli -a -', 'sshpass -p -']) {
      const s = unit.repeat(Math.ceil(200_000 / unit.length));
      text(s.slice(0, 20_000));
      let fastest = Infinity;
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        // Nothing in it is a password (the record is cut at the payload cap, so not compared whole).
        expect(text(s)).not.toContain('[REDACTED');
        fastest = Math.min(fastest, performance.now() - t);
      }
      expect(fastest, unit).toBeLessThan(400);
    }
  });

  it("mask the password of Go's MySQL DSN, which has no scheme", () => {
    expect(text(`dsn app:${P}@tcp(db:3306)/orders?parseTime=true`)).toBe('dsn [REDACTED:url_credentials]@tcp(db:3306)/orders?parseTime=true');
    expect(text(`root:${P}@unix(/var/run/mysqld.sock)/x`)).toBe('[REDACTED:url_credentials]@unix(/var/run/mysqld.sock)/x');
  });

  it('mask a .netrc password, on one line or several, and curl -u credentials', () => {
    expect(text(`machine api.example login app password ${P}`)).toBe('machine api.example login app password [REDACTED:password]');
    expect(text(`machine api.example\n  login app\n  password ${P}\n`)).toBe('machine api.example\n  login app\n  password [REDACTED:password]\n');
    // The `default` entry (any other host): the gate looked for `machine` only, so it stayed in clear.
    expect(text(`default login anonymous password ${P}`)).toBe('default login anonymous password [REDACTED:password]');
    expect(text(`machine a.example login x password ${P}\ndefault\n  login y\n  password ${P}`)).toBe(
      'machine a.example login x password [REDACTED:password]\ndefault\n  login y\n  password [REDACTED:password]',
    );
    // `default` inside a sentence is not an entry: nothing in it is taken for the password.
    expect(text('Set the default password on first login.')).toBe('Set the default password on first login.');
    expect(text(`curl -u app:${P} https://x.example`)).toBe('curl -u app:[REDACTED:password] https://x.example');
    expect(text(`curl --user=app:${P} https://x.example`)).toBe('curl --user=app:[REDACTED:password] https://x.example');
  });

  it('mask a password glued to what it is for, a presigned signature, and password in other languages', () => {
    expect(text(`PGPASSWORD=${P} psql -h db`)).toBe('PGPASSWORD=[REDACTED:password] psql -h db');
    expect(JSON.parse(json({ DBPASSWD: P, rootPassword: P }))).toEqual({ DBPASSWD: '[REDACTED:passwd]', rootPassword: '[REDACTED:password]' });
    const sig = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(text(`https://s3.example/o?X-Amz-Expires=300&X-Amz-Signature=${sig}`)).toBe('https://s3.example/o?X-Amz-Expires=300&X-Amz-Signature=[REDACTED:amz_signature]');
    expect(text(`Passwort: ${P}`)).toBe('Passwort: [REDACTED:passwort]');
    expect(JSON.parse(json({ senha: P, wachtwoord: P }))).toEqual({ senha: '[REDACTED:senha]', wachtwoord: '[REDACTED:wachtwoord]' });
  });
});

describe('personal values in forms the plain detectors missed', () => {
  it('mask nine bare SSN digits right after an SSN label, and no other nine digits', () => {
    for (const s of ['SSN 536221234', 'my SSN is 536221234.', 'Social Security Number: 536221234', 'SSN #536221234']) {
      expect(text(s)).toMatch(/\[ssn:[0-9a-f]{12}\]/);
      expect(text(s)).not.toContain('536221234');
    }
    for (const s of ['Order 536221234', 'SSN 666221234 is never issued', 'SSN 5362212345']) expect(text(s)).toBe(s);
  });

  it('mask a card held in a BigInt, as the JSON of the record writes it', () => {
    expect(json({ n: 4111111111111111n, small: 42n })).toBe('{"n":"****1111","small":"42n"}');
  });
});

describe('private keys and JWTs in their less common shapes', () => {
  const body = `MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj${'aZ7kQ2mX9pL4vR8tN3wY6bC1dF5gH0jK2sE4'}`;

  it('mask a lower-case PEM block, an RFC 4716 SSH2 key and the private lines of a PuTTY key', () => {
    expect(text(`k: -----begin private key-----\n${body}\n-----end private key----- ok`)).toBe('k: [REDACTED:private_key] ok');
    expect(text(`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n${body}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----`)).toBe('[REDACTED:private_key]');
    const ppk = `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\nAAAAC3NzaC1lZDI1NTE5\nPrivate-Lines: 1\n${body}\nPrivate-MAC: 9f86d081884c7d65`;
    expect(text(ppk)).toBe('PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\nAAAAC3NzaC1lZDI1NTE5\n[REDACTED:private_key]');
  });

  it('mask a JWE (five parts) and a JWT whose JSON was spaced', () => {
    const b64u = (s: string): string => Buffer.from(s).toString('base64url');
    const sig = 'aZ7kQ2mX9pL4vR8tN3wY6bC1dF5gH0jK2sE4aZ7kQ2m';
    const jwe = `${b64u('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.${sig}.${sig.slice(0, 16)}.${sig}.${sig.slice(0, 22)}`;
    expect(text(`token ${jwe} end`)).toBe('token [REDACTED:jwt] end');
    const spaced = `${b64u('{ "alg": "RS256" }')}.${b64u('{ "sub": "u1" }')}.${sig}`;
    expect(text(`t=${spaced};`)).toBe('t=[REDACTED:jwt];');
    const pretty = `${b64u('{\n  "alg": "HS256"\n}')}.${b64u('{\n  "sub": "u1"\n}')}.${sig}`;
    expect(text(pretty)).toBe('[REDACTED:jwt]');
  });
});

describe('neighbours the patterns refused', () => {
  it('mask an address after a dot or a dash, and the tail of a local part over 64 characters', () => {
    for (const s of ['see .dana.whitfield@example.org', '-dana.whitfield@example.org', `${'x'.repeat(70)}dana.whitfield@example.org`]) {
      expect(text(s)).not.toContain('whitfield@example.org');
      expect(text(s)).toMatch(/\[email:[0-9a-f]{12}\]$/);
    }
  });

  it('mask an Entra ID secret after a path slash and an Asana token after a word and a colon', () => {
    expect(text(`https://vault.example/v/99C8Q~${'ISCA_g9nPK_rQbk.ZB2kAtoySdYI5IW1-d'}`)).toBe('https://vault.example/v/[REDACTED:azure_ad_client_secret]');
    expect(text(`asana:2/1204567890123456/1209876543210987:${'cd1a88c1148f837e011fa706833ec083'}`)).toBe('asana:[REDACTED:asana_token]');
  });
});

describe('false positives under the hunt fixes', () => {
  it('leave every ordinary value unchanged when entity-escaped, double percent-encoded, wrapped in underscores or after a namespace dot', async () => {
    const { FALSE_POSITIVES } = await import('./fixtures/false-positives.js');
    const touched: string[] = [];
    for (const v of FALSE_POSITIVES) {
      const forms = [
        [...v].map((c) => `&#${c.codePointAt(0)};`).join(''),
        encodeURIComponent(encodeURIComponent(v)),
        `_${v}_`,
        `__${v}__`,
        `attr.${v}`,
        v.replace(/\./g, '&period;'),
      ];
      for (const f of forms) {
        const report = new EncodeReport();
        const out = encoder.json({ f, list: [f], [f]: true }, { tool: 't', field: 'arguments', report });
        if (out !== JSON.stringify({ f, list: [f], [f]: true }) || report.masked !== 0) touched.push(`${JSON.stringify(f)} -> ${out}`);
      }
    }
    expect(touched).toEqual([]);
  });
});

describe('internationalised email addresses', () => {
  it('are masked whole, not from their first ASCII-only stretch', () => {
    for (const [s, kept] of [['Contact josé.garcía@ejemplo.es now', ['Contact ', ' now']], ['mail müller@bücher.de', ['mail ']], ['用户@例子.广告', []], ['anna.kowalska@przykład.pl', []]] as const) {
      const out = text(s);
      expect(out.replace(/\[email:[0-9a-f]{12}\]/, '')).toBe(kept.join(''));
    }
  });

  it('correlate whatever the case', () => {
    expect(text('JOSÉ.GARCÍA@EJEMPLO.ES')).toBe(text('josé.garcía@ejemplo.es'));
  });
});

describe('secrets named next to their value rather than before it', () => {
  it('mask the value of a name/value pair that names a secret (Kubernetes env, ECS environment, tags)', () => {
    const env = { env: [{ name: 'API_KEY', value: S }, { name: 'LOG_LEVEL', value: 'debug' }], environment: [{ Name: 'DB_PASSWORD', Value: S }] };
    expect(JSON.parse(json(env))).toEqual({ env: [{ name: 'API_KEY', value: '[REDACTED:api_key]' }, { name: 'LOG_LEVEL', value: 'debug' }], environment: [{ Name: 'DB_PASSWORD', Value: '[REDACTED:password]' }] });
    expect(text(`[{"Name":"DB_PASSWORD","Value":"${S}"}]`)).toBe('[{"Name":"DB_PASSWORD","Value":"[REDACTED:password]"}]');
    // CloudFormation parameters and Elastic Beanstalk option settings name their value the same way.
    const aws = { Parameters: [{ ParameterKey: 'DbPassword', ParameterValue: S }, { ParameterKey: 'Env', ParameterValue: 'prod' }], OptionSettings: [{ Namespace: 'aws:elasticbeanstalk:application:environment', OptionName: 'API_KEY', Value: S }] };
    expect(JSON.parse(json(aws))).toEqual({
      Parameters: [{ ParameterKey: 'DbPassword', ParameterValue: '[REDACTED:password]' }, { ParameterKey: 'Env', ParameterValue: 'prod' }],
      OptionSettings: [{ Namespace: 'aws:elasticbeanstalk:application:environment', OptionName: 'API_KEY', Value: '[REDACTED:api_key]' }],
    });
    expect(text(`env:\n- name: API_KEY\n  value: ${S}\n- name: MODE\n  value: fast`)).toBe('env:\n- name: API_KEY\n  value: [REDACTED:api_key]\n- name: MODE\n  value: fast');
  });

  it('mask the item after a flag that names a secret in an argument list (a subprocess argv)', () => {
    expect(JSON.parse(json({ cmd: ['mysql', '--password', S, '-h', 'db'] }))).toEqual({ cmd: ['mysql', '--password', '[REDACTED:password]', '-h', 'db'] });
    expect(JSON.parse(json({ argv: ['keytool', '-storepass', S, '-keystore', 'k.jks'] }))).toEqual({ argv: ['keytool', '-storepass', '[REDACTED:storepass]', '-keystore', 'k.jks'] });
    expect(text(`["deploy","--api-key","${S}"]`)).toBe('["deploy","--api-key","[REDACTED:api_key]"]');
    // A flag after a quote or a bracket: the text pre-check wanted a space before the dash, which
    // the flag pattern does not. (An unquoted value runs to the next space: the closer goes with it.)
    expect(text(`"-storepass ${S}"`)).toBe('"-storepass [REDACTED:storepass]');
    expect(text(`(-storepass ${S})`)).toBe('(-storepass [REDACTED:storepass]');
    expect(JSON.parse(json({ args: ['--db-password', 4242424242] }))).toEqual({ args: ['--db-password', '[REDACTED:password]'] });
    // What describes a secret, or another flag next: nothing taken for a value.
    const plain = { args: ['--password-file', '/run/secrets/db', '--token-count', '5', '--password', '--verbose', '--level', 'debug'] };
    expect(JSON.parse(json(plain))).toEqual(plain);
  });

  it('mask the value of [name, value] pairs in a list of pairs (Object.entries, fetch headers, URLSearchParams)', () => {
    const headers = { headers: [['X-Api-Key', S], ['Accept', 'application/json']] };
    expect(JSON.parse(json(headers))).toEqual({ headers: [['X-Api-Key', '[REDACTED:api_key]'], ['Accept', 'application/json']] });
    expect(JSON.parse(json({ entries: Object.entries({ password: S, user: 'dana' }) }))).toEqual({ entries: [['password', '[REDACTED:password]'], ['user', 'dana']] });
    expect(text(`[["token","${S}"]]`)).toBe('[["token","[REDACTED:token]"]]');
    // A pair alone, or a list that is not all pairs, is a list: `['auth', 'billing']` is two tags.
    const lists = { tags: ['auth', 'billing'], grid: [['password', 'x'], ['a', 'b', 'c']] };
    expect(JSON.parse(json(lists))).toEqual(lists);
  });

  it('mask YAML block scalars, CDATA and a quoted value cut before its closing quote', () => {
    expect(text(`db:\n  password: |\n    ${S}\n    second line\n  host: db`)).toBe('db:\n  password: [REDACTED:password]\n[REDACTED:password]\n  host: db');
    expect(text(`db:\n  password: >-\n    ${S}\n  host: db`)).toBe('db:\n  password: >-\n[REDACTED:password]\n  host: db');
    expect(text(`<password><![CDATA[${S}]]></password>`)).toBe('<password><![CDATA[[REDACTED:password]]]></password>');
    expect(text(`failed: password="${S}…[truncated]`)).toBe('failed: password="[REDACTED:password]');
    expect(text('note: |\n  keep this\nnext: 1')).toBe('note: |\n  keep this\nnext: 1');
  });
});

describe('sk- keys in hex', () => {
  it('are masked (other AI providers issue sk- and 32 hex), while sk- names and zeros stay', () => {
    expect(text(`key sk-${'3f9a2c7e1b4d8a6f0e5c9b2a7d4e1f8c'} end`)).toBe('key [REDACTED:openai_key] end');
    for (const s of ['sk-learn-pipeline-version-two-thing', `sk-${'0'.repeat(34)}`]) expect(text(s)).toBe(s);
  });
});
