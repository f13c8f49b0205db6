// DKIM とドメイン、Mautic、メッセージの検証、テナント設定の画面と、Webhook の操作の日本語文言
// （i18n.js が strings-ja.js に加えます）。
export const jaScreens = {
  ui: {
    navDomain: 'DKIM とドメイン',
    navMautic: 'Mautic',
    navVerify: 'メッセージを検証',
    navTenant: 'テナント設定',
    domainTitle: 'DKIM とドメイン · {tenant}',
    dkimTitle: 'DKIM 鍵',
    dkimIntro:
      'リレーは S/MIME 署名の上に、送信するそのままのメッセージに対して DKIM 署名を付けます。鍵はテナントごとに 1 つです。',
    dkimNone: 'DKIM 鍵はまだありません。リレーは DKIM 署名を付けずに送信します。',
    dkimDomain: 'ドメイン',
    dkimDomainHint: 'From: アドレスのドメイン（またはその親ドメイン）。例: example.com',
    dkimSelector: 'セレクター',
    dkimSelectorHint: 'DNS 上のこの鍵の名前。例: s1。鍵を入れ替えるときは新しい名前にします。',
    dkimKeyType: '鍵の種類',
    dkimRsa: 'RSA 2048（どの受信側も検証できます）',
    dkimEd25519: 'Ed25519（短い鍵。まだ検証しない受信側もあります）',
    dkimOwnKey: '手持ちの秘密鍵（PEM、任意）',
    dkimOwnKeyHint:
      '空欄ならリレーが鍵を作ります。貼り付けた鍵は暗号化して保存され、二度と表示されません。',
    dkimCreate: '鍵を作成',
    dkimRotate: '鍵を入れ替える（ローテーション）',
    dkimRotateHint:
      '新しい鍵はすぐに署名に使われます。新しいレコードをすぐに公開し、配送中のメールが検証できるよう、古いセレクターのレコードも数日は DNS に残してください。',
    dkimCreated: '鍵ができました。このレコードを DNS に公開してください。',
    dkimAlgorithm: 'アルゴリズム',
    dnsRecordTitle: '公開する DNS レコード',
    dnsName: '名前（ホスト）',
    dnsType: '種類',
    dnsValue: '値',
    dnsSplitHint:
      '1 つの文字列が 255 文字までの DNS サービスでは、長い値を 1 つのレコードの中で複数の「"…"」に分けて入力してください。',
    dkimRemove: '鍵を削除',
    confirmRemoveDkim:
      '{domain} の DKIM 鍵を削除しますか？今後はリレーの DKIM 署名なしで送信されます。',
    dkimRemoved: '{domain} の DKIM 鍵を削除しました。',
    readinessTitle: 'ドメインの準備状況',
    readinessIntro:
      '1 つのドメインについて、SPF、DKIM、DMARC、S/MIME 証明書の対応、ワンクリック配信停止、最新の経路チェックを、受信側から今見えるとおりに確認します。',
    readinessDomain: '確認するドメイン',
    readinessRun: 'ドメインを確認',
    readinessOverall: '総合',
    readinessChecked: '確認日時: {when}',
    readinessItems: '{domain} の確認結果',
    readinessCheck: '確認項目',
    readinessStatus: '状態',
    readinessFound: '確認した内容（英語）',
    readinessFix: '対処方法（英語）',
    readinessNothingToFix: '—',
    status_pass: '合格',
    status_warn: '注意',
    status_fail: '要対応',
    check_spf: 'SPF',
    check_dkim: 'DKIM',
    check_dmarc: 'DMARC',
    check_smime: 'S/MIME 証明書の対応',
    check_unsubscribe: 'ワンクリック配信停止',
    check_transit: '経路チェック',
    mauticTitle: 'Mautic · {tenant}',
    mauticIntro:
      'アドレスが存在しないためにメッセージが最終的に失敗すると、リレーは Mautic でその連絡先を「連絡不可（Do Not Contact）」にし、Mautic がそのアドレスに送り続けないようにします。Mautic からの送信には、送信設定の画面の SMTP 設定を使います。',
    mauticNew: 'Mautic と連携',
    mauticBaseUrl: 'Mautic のサイト URL',
    mauticBaseUrlHint: 'Mautic の「設定 → システム設定 → サイト URL」。',
    mauticAuth: '認証方式',
    mauticBasic: 'Basic 認証（Mautic のユーザー）',
    mauticOauth: 'OAuth 2（API 認証情報）',
    mauticUser: 'Mautic のユーザー名',
    mauticPassword: 'Mautic のパスワード',
    mauticClientId: 'クライアント ID',
    mauticClientSecret: 'クライアントシークレット',
    mauticSecretHint: '暗号化して保存され、この画面でも API でも二度と表示されません。',
    mauticDnc: '署名できなかったメッセージの連絡先も「連絡不可」にする',
    mauticDncHint:
      '初期設定はオフです。署名の問題は送信者側の問題で連絡先のせいではなく、「連絡不可」にするとその連絡先には以後一切メールが届きません。',
    mauticSave: '連携する',
    mauticSaved: '{url} と連携しました。',
    mauticApiHint:
      '先に Mautic で API を有効にしてください:「設定 → API 設定」（ユーザーで認証する場合は HTTP Basic 認証も）。',
    mauticList: '連携中の Mautic',
    mauticNone: '連携中の Mautic はありません。',
    mauticChangeHint: '設定を変えるには、新しい設定でもう一度連携してから、古い連携を削除します。',
    secretStored: '保存済み（表示しません）',
    mauticFeedback: '通知の記録',
    mauticNoFeedback: 'Mautic への通知はまだありません。',
    feedbackMessage: 'メッセージ',
    feedbackDetail: '詳細',
    feedback_done: '完了',
    feedback_retry: '再試行予定',
    feedback_refused: '拒否',
    confirmRemoveMautic:
      '{url} との連携を解除しますか？失敗したアドレスはこの Mautic に通知されなくなります。',
    mauticRemoved: '{url} との連携を解除しました。',
    verifyTitle: 'メッセージを検証',
    verifyIntro:
      '受信したメッセージ（メールソフトで保存した .eml ファイル）をアップロードしてください。メールソフトと同じ方法で S/MIME 署名を確認し、結果を説明します。ファイルはそのまま読み取り、保存はしません。',
    verifyFile: 'メッセージのファイル（.eml）',
    verifyRun: '検証',
    verifyNoFile: '先に .eml ファイルを選んでください。',
    verdictTitle: '判定',
    verdict_valid:
      '有効: メッセージは署名されたときのままで、証明書に From: アドレスが含まれています。',
    verdict_not_signed:
      '署名なし: このメッセージには S/MIME 署名がないため、受信者には証明書が表示されません。',
    verdict_digest_mismatch:
      '署名が壊れています: 署名の後でメッセージが変更されています（途中でのフッターやトラッキングの追加、エンコードの変換など）。メールソフトは警告を表示します。',
    verdict_bad_signature:
      '署名が壊れています: 署名が署名者の鍵と一致しません。メールソフトは警告を表示します。',
    verdict_bad_signature_format:
      '署名を読み取れません: 壊れているか、メールソフトが扱える S/MIME 署名ではありません。',
    verdict_signer_certificate_missing:
      'メッセージに署名者の証明書が含まれていないため、誰が署名したかを確認できません。',
    verdict_chain_untrusted:
      '信頼されていない、または不明な認証局です: 証明書が信頼されたルート認証局につながっていません。',
    verdict_certificate_expired:
      '証明書の期限切れ: 署名者の証明書は有効期限を過ぎています。メールソフトは署名を無効と表示します。',
    verdict_certificate_not_yet_valid:
      '署名者の証明書はまだ有効になっていません。時計を確認するか、有効開始日を待ってください。',
    verdict_signing_time_mismatch:
      '署名日時と Date: が合いません: 1 時間以上離れているため、Thunderbird は署名を無効と表示します。',
    verdict_from_mismatch:
      '署名者と送信者が違います: From: は {from} ですが、証明書に含まれるのは {addresses} です。',
    verdict_weak_digest:
      '弱いハッシュ: 署名に SHA-1 が使われており、現在のメールソフトは受け付けません。',
    verdict_certificate_wrong_purpose:
      'この証明書はメールの署名用ではないため、メールソフトに受け付けられません。',
    verdictCaNote:
      '証明書を発行した認証局を信頼するかどうかは、受信者のメールソフトがそれぞれの信頼済み認証局の一覧で判断します。この検証では判定しません。発行者は下に表示しています。',
    verdictProblems: '見つかった問題',
    verdictFacts: '詳細',
    signerAddresses: '証明書に含まれるアドレス',
    signingTime: '署名日時',
    validUntil: '有効期限',
    tenantTitle: 'テナント設定 · {tenant}',
    renameTitle: '名前と署名ポリシー',
    renameSave: '保存',
    renamed: '保存しました。テナント名は「{name}」になりました。',
    deleteTitle: 'このテナントを削除',
    deleteWarning:
      '削除すると、このテナントの証明書、鍵、SMTP 認証情報、Webhook、メッセージの履歴もすべて削除されます。以後、その認証情報を使ったメールは受け付けられません。元に戻すことはできません。',
    deleteConfirm: '確認のため、テナント名を入力してください: {name}',
    deleteButton: 'テナントを削除',
    deleteMismatch: '入力した名前が「{name}」と一致しないため、削除していません。',
    deleted: 'テナント「{name}」を削除しました。',
    enableAgain: '再び有効にする',
    enabledAgain: '再び有効にしました。待機していたイベントから順に {url} へ送ります。',
    rotateSecret: 'シークレットを再発行',
    confirmRotate:
      '{url} の署名用シークレットを新しくしますか？古いシークレットはすぐに使えなくなるため、受信側で新しいものに切り替えてください。',
    rotated: '{url} の新しい署名用シークレット',
  },
  errors: {},
};
