// Delivery settings problems in Japanese. The API explains a refused setting in English
// ("apiKey must be a string; region must be one of the following values: us, eu"); a
// Japanese reader gets each sentence in Japanese, naming the field with the words listmonk's
// and Mautic's Japanese screens use (ホスト, ポート, ユーザー名, パスワード, 送信元 …) and
// its JSON name. A sentence no rule knows is left out, never shown in English.

/** Japanese names of the settings' fields (smtp and the providers), by JSON path. */
export const FIELD_LABELS = {
  transport: '配送方法',
  host: 'ホスト',
  port: 'ポート',
  secure: '最初から TLS',
  requireTLS: 'STARTTLS を必須にする',
  rejectUnauthorized: 'TLS 証明書を検証する',
  maxConnections: '最大接続数',
  auth: '認証',
  'auth.user': 'ユーザー名',
  'auth.pass': 'パスワード',
  apiKey: 'API キー',
  region: 'リージョン',
  baseUrl: 'API のルート URL',
  domain: '送信ドメイン',
  accessKeyId: 'アクセスキー ID',
  secretAccessKey: 'シークレットアクセスキー',
  configurationSet: '設定セット',
  endpoint: 'エンドポイント',
  serverToken: 'サーバー API トークン',
  messageStream: 'メッセージストリーム',
  signatureFormat: '署名の形式',
  useEnvelopeSender: 'エンベロープの送信元を使う',
};

/** 「ホスト」（host）: the Japanese name, then the JSON name the text box uses. */
export const fieldName = (path) =>
  FIELD_LABELS[path] ? `「${FIELD_LABELS[path]}」（${path}）` : `「${path}」`;

const FIELD = '([A-Za-z][\\w.]*)';
/** [English sentence pattern, Japanese sentence] pairs; {f} is the field, {1} {2} the rest. */
const RULES = [
  [`^property ${FIELD} should not exist$`, '{f}という項目はありません'],
  [
    `^nested property ${FIELD} must be either object or array$`,
    '{f}はオブジェクトで指定してください',
  ],
  [`^${FIELD} must be a string$`, '{f}は文字列で指定してください'],
  [`^${FIELD} must be an integer number$`, '{f}は整数で指定してください'],
  [`^${FIELD} must be a boolean value$`, '{f}は true か false で指定してください'],
  [`^${FIELD} must not be less than (\\S+)$`, '{f}は {1} 以上にしてください'],
  [`^${FIELD} must not be greater than (\\S+)$`, '{f}は {1} 以下にしてください'],
  [`^${FIELD} must be one of the following values: (.+)$`, '{f}は次のどれかにしてください: {1}'],
  [`^${FIELD} must be a URL address$`, '{f}は http:// か https:// で始まる URL にしてください'],
  [`^${FIELD} must be longer than or equal to 1 characters$`, '{f}を入力してください'],
  [
    `^${FIELD} must be longer than or equal to (\\d+) characters$`,
    '{f}は {1} 文字以上にしてください',
  ],
  [
    `^${FIELD} must be shorter than or equal to (\\d+) characters$`,
    '{f}は {1} 文字以下にしてください',
  ],
  [`^${FIELD} should not be (?:empty|null or undefined)$`, '{f}を入力してください'],
  [`^${FIELD} must be a host name or an IP address$`, '{f}はホスト名か IP アドレスにしてください'],
  [
    `^${FIELD} must (?:be printable ASCII without spaces|not contain spaces or line breaks)$`,
    '{f}に空白や改行は使えません',
  ],
  [
    `^${FIELD} must be an AWS region such as (\\S+)$`,
    '{f}は {1} のような AWS リージョンにしてください',
  ],
  [`^${FIELD} must be an AWS access key id`, '{f}は AWS のアクセスキー ID（AKIA…）にしてください'],
  [`^${FIELD} must be a domain name such as (\\S+)$`, '{f}は {1} のようなドメイン名にしてください'],
  [
    `^${FIELD} must be (?:1 to 64 letters|a stream ID)`,
    '{f}は英数字と「-」「_」で指定してください',
  ],
  [`^${FIELD} must match .* regular expression$`, '{f}の形式が正しくありません'],
  ['^transport is required$', '配送方法を選んでください'],
  [
    '^unknown transport "([^"]*)"; use one of: (.+)$',
    '配送方法「{1}」はありません（使えるもの: {2}）',
  ],
  // The egress policy refused a destination ("host: …"); the operator can allow it.
  [`^${FIELD}: `, '{f}の接続先は許可されていません（運用者の設定が必要です）'],
].map(([pattern, words]) => ({ re: new RegExp(pattern), words, field: pattern.includes(FIELD) }));

/** One English sentence of the API in Japanese, or undefined when no rule knows it. */
export function settingsProblemJa(sentence) {
  const text = sentence.trim();
  for (const rule of RULES) {
    const m = rule.re.exec(text);
    if (!m) continue;
    // With a field, group 1 is the field and {1} is group 2.
    const rest = m.slice(rule.field ? 2 : 1);
    return rule.words.replace(/\{(f|\d)\}/g, (_, k) =>
      k === 'f' ? fieldName(m[1]) : (rest[Number(k) - 1] ?? ''),
    );
  }
  // A sentence about a field we know, in words no rule has: say which field, at least.
  const first = /^([A-Za-z][\w.]*)\b/.exec(text);
  return first && FIELD_LABELS[first[1]]
    ? `${fieldName(first[1])}の値が正しくありません`
    : undefined;
}

/** The API's message ("…; …") as Japanese lines, one per problem it names. */
export function settingsProblemsJa(message) {
  return (message ?? '')
    .split(/;\s+(?!use one of)/)
    .map(settingsProblemJa)
    .filter(Boolean);
}
