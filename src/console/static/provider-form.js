// A delivery transport's settings as a form, drawn from the fields the transport declares
// (GET /v1/about: transportFields): a text box, password box, number, switch or choice per
// field, with its label and help in the reader's language. A secret the relay keeps shows
// as "[redacted]"; sent back unchanged, the saved value stays. A field only the operator
// may change is shown to a tenant as a choice of the values it may pick, or not at all.
import { h, field, input, select } from './dom.js';
import { t, lang } from './i18n.js';
import { FIELD_LABELS } from './settings-words.js';

/** Japanese help, by "transport.field" or by field for every transport. */
const HELP_JA = {
  'smtp.host':
    '送信先 SMTP サーバーのホスト名または IP アドレス（配信プラットフォームの SMTP 設定と同じもの）。',
  'smtp.port': 'STARTTLS なら 587、最初から TLS なら 465、サーバー間なら 25。',
  secure: 'ポート 465（最初から TLS）のときにオン。STARTTLS のときはオフ。',
  requireTLS: 'STARTTLS が使えないサーバーには送りません。',
  rejectUnauthorized: '通常はオンのまま。オフにするのは社内のテスト用サーバーだけです。',
  maxConnections: 'ワーカー 1 プロセスあたりの、このサーバーへの同時接続数。',
  'auth.user': 'SMTP 認証のユーザー名。認証のないサーバーなら空欄。',
  'auth.pass': '暗号化して保存し、二度と表示しません。',
  'ses.region': '送信元 ID を検証した SES のリージョン。',
  accessKeyId:
    'ses:SendEmail を許可した IAM アクセスキー（IAM → ユーザー → セキュリティ認証情報）。',
  secretAccessKey: 'アクセスキー作成時に IAM が一度だけ表示する値。ここでは暗号化して保存します。',
  configurationSet:
    '開封・クリック計測のない設定セット（SES → 設定セット）。空欄ならアカウントの既定。',
  endpoint: 'SES の公開エンドポイント以外（VPC エンドポイントなど）。通常は空欄。',
  serverToken:
    'サーバーの API トークン（Servers → サーバー → API Tokens）。アカウントトークンではありません。サーバーで SMTP を有効にしてください。',
  messageStream:
    'ストリーム ID（ニュースレターなら broadcast など）。空欄なら既定のトランザクションストリーム。',
  'postmark.host': 'Postmark の SMTP リレー。ほかのホスト（プロキシ）は運用者が設定します。',
  'sendgrid.host': 'SendGrid の SMTP リレー。ほかのホスト（プロキシ）は運用者が設定します。',
  'postmark.port': 'STARTTLS の 587（または 25、2525）。',
  'sendgrid.port': 'STARTTLS の 587（または 25、2525）。',
  'sendgrid.apiKey':
    'Mail Send 権限のある API キー（Settings → API Keys）。SMTP のユーザー名は apikey です。',
  'sendgrid.signatureFormat':
    'opaque は SendGrid による長い行の折り返しに耐えます。detached はどのメールソフトでも表示できます。',
  'mailgun.apiKey': 'プライベート API キー（Account → API security）。',
  'sparkpost.apiKey':
    'Transmissions: Read/Write 権限（確認には Account: Read-only も）のある API キー（Configuration → API Keys）。',
  region: 'アカウントのあるリージョン: us か eu。',
  baseUrl: 'リージョンの API 以外のルート URL（プロキシなど）。通常は空欄。',
  domain: 'Mailgun の Sending → Domains に表示されるドメイン。',
  useEnvelopeSender:
    'エンベロープの送信元を return_path として使います。そのドメインを SparkPost でバウンスドメインとして検証してください。オフなら SparkPost の既定。',
  'sparkpost.signatureFormat':
    'detached（multipart/signed）はどこでも読めます。opaque は SparkPost の差し込み処理の影響を受けません。',
};

const labelOf = (f) => (lang === 'ja' ? (FIELD_LABELS[f.name] ?? f.label) : f.label);
const helpOf = (transport, f) =>
  lang === 'ja' ? (HELP_JA[`${transport}.${f.name}`] ?? HELP_JA[f.name]) : f.help;

const get = (o, path) => path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), o);
function put(o, path, value) {
  const keys = path.split('.');
  let at = o;
  for (const k of keys.slice(0, -1)) at = at[k] ??= {};
  at[keys[keys.length - 1]] = value;
}

/** One control for `f`, and how to read its value back (undefined: leave the field out). */
function control(f, current, operator) {
  const saved = get(current, f.name);
  const value = saved ?? f.default;
  const name = `setting-${f.name.replace(/\./g, '-')}`;
  const choices = !operator && f.operatorOnly ? f.tenantChoices : f.choices;
  if (f.type === 'boolean' && !choices) {
    const box = input({ type: 'checkbox', name, checked: value === true });
    return { el: box, read: () => box.checked };
  }
  if (f.type === 'choice' || choices) {
    const words = (c) => (c === true ? t('yes') : c === false ? t('no') : String(c));
    const options = choices.map((c) => [String(c), words(c)]);
    if (!f.required && f.default === undefined) options.unshift(['', t('fieldChoose')]);
    const box = select(options, { name, value: value === undefined ? '' : String(value) });
    return {
      el: box,
      read: () => {
        if (box.value === '') return undefined;
        const picked = choices.find((c) => String(c) === box.value);
        return picked;
      },
    };
  }
  if (f.type === 'integer') {
    const box = input({ type: 'number', name, min: f.min, max: f.max, required: f.required });
    box.value = value === undefined ? '' : String(value);
    return { el: box, read: () => (box.value === '' ? undefined : Number(box.value)) };
  }
  const box = input({
    type: f.type === 'secret' ? 'password' : f.type === 'url' ? 'url' : 'text',
    name,
    required: f.required,
    placeholder: f.placeholder,
    autocomplete: f.type === 'secret' ? 'new-password' : 'off',
    spellcheck: 'false',
  });
  box.value = saved === undefined ? '' : String(saved);
  return { el: box, read: () => (box.value.trim() === '' ? undefined : box.value.trim()) };
}

/**
 * The form of `transport` with the values of `current` (the saved settings, when they are for
 * this transport). `operator`: the caller may change operator-only fields.
 */
export function providerForm(transport, declared, current, operator) {
  const shown = declared.filter((f) => operator || !f.operatorOnly || f.tenantChoices);
  const controls = shown.map((f) => {
    const c = control(f, current, operator);
    const hints = [helpOf(transport, f)];
    if (f.secret && get(current, f.name) !== undefined) hints.push(t('fieldSecretKept'));
    if (f.operatorOnly && operator) hints.push(t('fieldOperatorOnly'));
    return { f, c, el: field(labelOf(f), c.el, hints.filter(Boolean).join(' ')) };
  });
  return {
    el: h(
      'div',
      { class: 'grid', id: 'provider-fields' },
      controls.map((x) => x.el),
    ),
    value: () => {
      const out = { transport };
      for (const { f, c } of controls) {
        const v = c.read();
        if (v !== undefined) put(out, f.name, v);
      }
      // Operator-only fields a tenant does not see keep what was saved.
      for (const f of declared) {
        if (!shown.includes(f) && get(current, f.name) !== undefined)
          put(out, f.name, get(current, f.name));
      }
      return out;
    },
  };
}
