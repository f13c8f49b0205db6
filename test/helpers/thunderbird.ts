/**
 * The fourth verifier: Thunderbird itself (Debian package `thunderbird`, under `Xvfb`),
 * reading its own verdict the way a reader would see it.
 *
 * One Thunderbird per test PKI and process: a fresh profile whose NSS database trusts the test
 * root for e-mail (as a reader's client trusts a public CA), started once with Marionette on
 * a loopback port. Each message is opened as an .eml file in a message window (as a reader
 * double-clicking it would), and the window's own S/MIME state is read once Thunderbird
 * reports that every signature of the message has been processed (the `smimeprocessed`
 * event of msgHdrViewSMIMEOverlay.js): `gSignatureStatus`, a code of nsICMSMessageErrors
 * (0 = SUCCESS; 1041 = VERIFY_TIME_MISMATCH, signingTime more than an hour from Date:),
 * and the header's signed icon (`ok`, or hidden for a bad signature on an unencrypted
 * message).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { runOk } from './pki-exec';
import type { TestPki } from './pki';
import { MarionetteClient } from './marionette';

export const THUNDERBIRD = '/usr/bin/thunderbird';
export const XVFB = '/usr/bin/Xvfb';

export interface ThunderbirdVerdict {
  /** nsICMSMessageErrors code; -1 when Thunderbird showed no S/MIME status at all. */
  status: number;
  /** Its constant name, e.g. SUCCESS, VERIFY_TIME_MISMATCH, VERIFY_NOT_SIGNED. */
  statusName: string;
  /** The header icon: `ok`, `mismatch`, … or null when hidden. */
  icon: string | null;
  /** Signed and valid as the reader sees it: status SUCCESS and the "signed ok" icon. */
  ok: boolean;
  /** The signer certificate's e-mail address, as Thunderbird read it. */
  signer: string | null;
  /** The subject Thunderbird decoded (a check that the right message was shown). */
  subject: string | null;
}

const PREFS: Record<string, string | number | boolean> = {
  'mail.shell.checkDefaultClient': false,
  'mail.provider.enabled': false,
  'mailnews.start_page.enabled': false,
  'mail.openMessageBehavior': 0, // an .eml opens in a window of its own
  'app.update.enabled': false,
  'app.update.auto': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'mail.rights.override': true,
  'mail.spotlight.firstRunDone': true,
  'mail.winsearch.firstRunDone': true,
  'network.proxy.type': 0,
  'network.dns.disableIPv6': false,
  'browser.dom.window.dump.enabled': false,
  'extensions.autoDisableScopes': 15,
  'services.settings.server': 'http://127.0.0.1:9/',
  'security.OCSP.enabled': 0, // no network: revocation is not what is judged here
};

/** The constants of nsICMSMessageErrors (comm-central mailnews/extensions/smime). */
const CMS_ERRORS = [
  'SUCCESS', 'GENERAL_ERROR', 'VERIFY_NOT_SIGNED', 'VERIFY_NO_CONTENT_INFO', 'VERIFY_BAD_DIGEST',
  'VERIFY_NOCERT', 'VERIFY_UNTRUSTED', 'VERIFY_ERROR_UNVERIFIED', 'VERIFY_ERROR_PROCESSING',
  'VERIFY_BAD_SIGNATURE', 'VERIFY_DIGEST_MISMATCH', 'VERIFY_UNKNOWN_ALGO',
  'VERIFY_UNSUPPORTED_ALGO', 'VERIFY_MALFORMED_SIGNATURE', 'VERIFY_HEADER_MISMATCH',
  'VERIFY_NOT_YET_ATTEMPTED', 'VERIFY_CERT_WITHOUT_ADDRESS', 'VERIFY_TIME_MISMATCH',
  'ENCRYPT_NO_BULK_ALG', 'ENCRYPT_INCOMPLETE',
]; // prettier-ignore

/** Runs in Thunderbird's chrome context: opens one .eml and reports its S/MIME state. */
const OPEN_AND_READ = `
const [path, timeoutMs, done] = arguments;
const { MailUtils } = ChromeUtils.importESModule("resource:///modules/MailUtils.sys.mjs");
const file = Cc["@mozilla.org/file/local;1"].createInstance(Ci.nsIFile);
file.initWithPath(path);
const main = Services.wm.getMostRecentWindow("mail:3pane");
const before = new Set(Services.wm.getEnumerator("mail:messageWindow"));
MailUtils.openEMLFile(main, file, Services.io.newFileURI(file));
const started = Date.now();
let loadedAt = 0;
const names = {};
for (const k of ${JSON.stringify(CMS_ERRORS)}) {
  const v = Ci.nsICMSMessageErrors[k];
  if (typeof v === "number") names[v] = k;
}
function finish(win, am, extra) {
  const icon = am.document.getElementById("signedHdrIcon");
  const src = icon && !icon.hidden ? icon.getAttribute("src") || "" : "";
  const m = /message-signed-(\\w+)\\.svg/.exec(src);
  const status = am.gSignatureStatus;
  const result = Object.assign({
    status,
    statusName: names[status] || (status === -1 ? "NOT_SIGNED" : String(status)),
    icon: m ? m[1] : null,
    signer: am.gSignerCert ? am.gSignerCert.emailAddress : null,
    subject: am.gMessage ? am.gMessage.mime2DecodedSubject : null,
  }, extra);
  win.close();
  done(result);
}
function poll() {
  const win = [...Services.wm.getEnumerator("mail:messageWindow")].find(w => !before.has(w));
  const am = win && win.document.getElementById("messageBrowser")?.contentWindow;
  if (am && am.gSmimeProcessedDispatched) return finish(win, am, {});
  if (am && am.gSmimeMsgLoadedFired) {
    loadedAt = loadedAt || Date.now();
    // Loaded, no S/MIME part announced and none arriving: Thunderbird sees no signature.
    if (am.gExpectedSignatureCount === 0 && am.gSignatureStatusForURI === null &&
        Date.now() - loadedAt > 1500) return finish(win, am, {});
  }
  if (Date.now() - started > timeoutMs) {
    if (win) win.close();
    return done({ timeout: true, window: !!win, loaded: !!(am && am.gSmimeMsgLoadedFired) });
  }
  main.setTimeout(poll, 50);
}
poll();
`;

function userJs(marionettePort: number): string {
  const prefs = { ...PREFS, 'marionette.port': marionettePort };
  return Object.entries(prefs)
    .map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`)
    .join('\n');
}

/** Starts Xvfb on a free display (it picks the number and writes it to fd 3). */
function startXvfb(): Promise<{ proc: ChildProcess; display: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      XVFB,
      ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'],
      {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const fd3 = proc.stdio[3] as NodeJS.ReadableStream;
    fd3.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve({ proc, display: `:${m[1]}` });
    });
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}: ${err.slice(-500)}`)));
  });
}

export class Thunderbird {
  private queue: Promise<unknown> = Promise.resolve();
  private count = 0;

  private constructor(
    readonly pki: TestPki,
    private readonly dir: string,
    private readonly xvfb: ChildProcess,
    private readonly app: ChildProcess,
    private readonly client: MarionetteClient,
    private readonly log: () => string,
  ) {}

  static async start(pki: TestPki): Promise<Thunderbird> {
    for (const [path, pkg] of [
      [THUNDERBIRD, 'thunderbird'],
      [XVFB, 'xvfb'],
    ]) {
      if (!existsSync(path)) {
        throw new Error(
          `${path} is missing: the reader-client tests need Debian's ${pkg}. ` +
            'Install it with `apt-get install -y thunderbird xvfb` (.ci/run does this).',
        );
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'smime-thunderbird-'));
    const profile = join(dir, 'profile');
    mkdirSync(profile);
    mkdirSync(join(dir, 'messages'));
    const db = `sql:${profile}`;
    await runOk('certutil', ['-N', '-d', db, '--empty-password']);
    await runOk('certutil', ['-A', '-d', db, '-n', 'test-root', '-t', 'C,C,C', '-i', pki.rootPath]);
    // prettier-ignore
    await runOk('certutil', ['-A', '-d', db, '-n', 'test-intermediate', '-t', ',,', '-i', pki.intermediatePath]);
    const port = await freePort();
    writeFileSync(join(profile, 'user.js'), userJs(port));
    const { proc: xvfb, display } = await startXvfb();
    let output = '';
    const app = spawn(
      THUNDERBIRD,
      ['--profile', profile, '--no-remote', '--marionette', '--remote-allow-system-access'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          DISPLAY: display,
          HOME: dir,
          XDG_CACHE_HOME: join(dir, 'cache'),
          XDG_CONFIG_HOME: join(dir, 'config'),
          MOZ_CRASHREPORTER_DISABLE: '1',
          MOZ_DISABLE_AUTO_SAFE_MODE: '1',
          LANG: 'en_US.UTF-8',
        },
      },
    );
    const keep = (d: Buffer): void => void (output = (output + d.toString()).slice(-4000));
    app.stdout?.on('data', keep);
    app.stderr?.on('data', keep);
    const cleanup = (): void => {
      app.kill('SIGKILL');
      xvfb.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', cleanup);
    try {
      const client = await MarionetteClient.connect(port, Date.now() + 90_000);
      await client.command('WebDriver:NewSession', {});
      await client.command('Marionette:SetContext', { value: 'chrome' });
      return new Thunderbird(pki, dir, xvfb, app, client, () => output);
    } catch (e) {
      cleanup();
      throw new Error(`Thunderbird did not start: ${(e as Error).message}\n${output}`, {
        cause: e,
      });
    }
  }

  /** Thunderbird's verdict on one message (messages are opened one at a time). */
  verdict(eml: Buffer): Promise<ThunderbirdVerdict> {
    const run = async (): Promise<ThunderbirdVerdict> => {
      const path = join(this.dir, 'messages', `m${++this.count}.eml`);
      writeFileSync(path, eml);
      const r = await this.client.executeAsync<ThunderbirdVerdict & { timeout?: boolean }>(
        OPEN_AND_READ,
        [path, 30_000],
        40_000,
      );
      if (r.timeout) {
        throw new Error(
          `Thunderbird showed no verdict in 30 s: ${JSON.stringify(r)}\n${this.log()}`,
        );
      }
      return { ...r, ok: r.status === 0 && r.icon === 'ok' };
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops this Thunderbird; the next thunderbirdFor() for its PKI starts another. */
  async close(): Promise<void> {
    started.delete(this.pki);
    try {
      await Promise.race([
        this.client.command('Marionette:Quit', { flags: ['eForceQuit'] }),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
    } catch {
      // it may close the connection before answering
    }
    this.client.close();
    this.app.kill('SIGKILL');
    this.xvfb.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const started = new WeakMap<TestPki, Promise<Thunderbird>>();

/** The Thunderbird for `pki` in this process (started on first use, stopped at exit). */
export function thunderbirdFor(pki: TestPki): Promise<Thunderbird> {
  let t = started.get(pki);
  if (!t) {
    t = Thunderbird.start(pki);
    started.set(pki, t);
  }
  return t;
}
