// English text of the DKIM and domain, Mautic, verify and tenant settings screens, and the
// webhook actions (i18n.js adds it to strings-en.js).
export const enScreens = {
  ui: {
    navDomain: 'DKIM & domain',
    navMautic: 'Mautic',
    navVerify: 'Verify a message',
    navTenant: 'Tenant settings',
    domainTitle: 'DKIM & domain · {tenant}',
    dkimTitle: 'DKIM key',
    dkimIntro:
      'The relay adds a DKIM signature on top of the S/MIME signature, over the message exactly as it is sent. The tenant has one key at a time.',
    dkimNone: 'No DKIM key yet: mail goes out without a DKIM signature from the relay.',
    dkimDomain: 'Domain',
    dkimDomainHint:
      'The domain of your From: addresses (or a parent of it), for example example.com.',
    dkimSelector: 'Selector',
    dkimSelectorHint: 'A name for this key in DNS, for example s1. Use a new one when you rotate.',
    dkimKeyType: 'Key type',
    dkimRsa: 'RSA 2048 (every receiver checks it)',
    dkimEd25519: 'Ed25519 (short; not every receiver checks it yet)',
    dkimOwnKey: 'Your own private key (PEM, optional)',
    dkimOwnKeyHint:
      'Leave empty and the relay makes a key. A key you paste is stored encrypted and never shown again.',
    dkimCreate: 'Create the key',
    dkimRotate: 'Replace the key (rotate)',
    dkimRotateHint:
      'The new key signs mail at once. Publish its record now, and keep the old selector’s record in DNS for a few days, so mail already on its way still verifies.',
    dkimCreated: 'The key is ready. Publish this record in your DNS.',
    dkimAlgorithm: 'Algorithm',
    dnsRecordTitle: 'DNS record to publish',
    dnsName: 'Name (host)',
    dnsType: 'Type',
    dnsValue: 'Value',
    dnsSplitHint:
      'Some DNS services take at most 255 characters per string: split a longer value into several quoted strings of one record.',
    dkimRemove: 'Remove the key',
    confirmRemoveDkim:
      'Remove the DKIM key for {domain}? Mail goes out without the relay’s DKIM signature from now on.',
    dkimRemoved: 'The DKIM key for {domain} is removed.',
    readinessTitle: 'Is the domain ready?',
    readinessIntro:
      'Checks SPF, DKIM, DMARC, S/MIME coverage, one-click unsubscribe and the latest transit check for one domain, the way receivers see it now.',
    readinessDomain: 'Domain to check',
    readinessRun: 'Check the domain',
    readinessOverall: 'Overall',
    readinessChecked: 'Checked {when}',
    readinessItems: 'Checks of {domain}',
    readinessCheck: 'Check',
    readinessStatus: 'Status',
    readinessFound: 'What was found',
    readinessFix: 'How to fix it',
    readinessNothingToFix: '—',
    status_pass: 'Pass',
    status_warn: 'Warning',
    status_fail: 'Fail',
    check_spf: 'SPF',
    check_dkim: 'DKIM',
    check_dmarc: 'DMARC',
    check_smime: 'S/MIME certificate coverage',
    check_unsubscribe: 'One-click unsubscribe',
    check_transit: 'Transit check',
    mauticTitle: 'Mautic · {tenant}',
    mauticIntro:
      'When a message fails for good because the address does not exist, the relay marks the contact Do Not Contact in Mautic, so Mautic stops mailing it. Mautic sends through the SMTP settings on the Sending setup page.',
    mauticNew: 'Connect Mautic',
    mauticBaseUrl: 'Mautic site URL',
    mauticBaseUrlHint: 'Mautic’s Configuration → System Settings → Site URL.',
    mauticAuth: 'Authentication',
    mauticBasic: 'Basic auth (a Mautic user)',
    mauticOauth: 'OAuth 2 (API credentials)',
    mauticUser: 'Mautic username',
    mauticPassword: 'Mautic password',
    mauticClientId: 'Client ID',
    mauticClientSecret: 'Client secret',
    mauticSecretHint: 'Stored encrypted. It is never shown again, here or through the API.',
    mauticDnc: 'Also mark contacts Do Not Contact when their message could not be signed',
    mauticDncHint:
      'Off by default: a signing problem is yours, not the contact’s, and Do Not Contact stops every later email to them.',
    mauticSave: 'Connect',
    mauticSaved: 'Connected to {url}.',
    mauticApiHint:
      'In Mautic, switch the API on first: Configuration → API Settings (and HTTP basic auth, for a user).',
    mauticList: 'Connected Mautic sites',
    mauticNone: 'No Mautic site is connected.',
    mauticChangeHint:
      'To change the settings, connect again with the new ones, then remove the old connection.',
    secretStored: 'Stored, not shown',
    mauticFeedback: 'Feedback log',
    mauticNoFeedback: 'Nothing has been reported to Mautic yet.',
    feedbackMessage: 'Message',
    feedbackDetail: 'Detail',
    feedback_done: 'Done',
    feedback_retry: 'To be retried',
    feedback_refused: 'Refused',
    confirmRemoveMautic:
      'Disconnect {url}? Failed addresses are no longer reported to this Mautic site.',
    mauticRemoved: 'Disconnected {url}.',
    verifyTitle: 'Verify a message',
    verifyIntro:
      'Upload a message you received (an .eml file, as your mail program saves it). The relay checks its S/MIME signature the way a mail program does and explains the result. The file is read as it is and not stored.',
    verifyFile: 'Message file (.eml)',
    verifyRun: 'Verify',
    verifyNoFile: 'Choose an .eml file first.',
    verdictTitle: 'Verdict',
    verdict_valid:
      'Valid: the message is exactly as it was signed, and the certificate names the From: address.',
    verdict_not_signed:
      'Not signed: this message carries no S/MIME signature, so readers see no certificate.',
    verdict_digest_mismatch:
      'Signature broken: the message was changed after it was signed (a footer, tracking or re-encoding on the way). Mail programs show a warning.',
    verdict_bad_signature:
      'Signature broken: the signature does not match the signer’s key. Mail programs show a warning.',
    verdict_bad_signature_format:
      'The signature cannot be read: it is damaged, or not an S/MIME signature as mail programs expect.',
    verdict_signer_certificate_missing:
      'The signer’s certificate is not in the message, so nobody can check who signed it.',
    verdict_chain_untrusted:
      'Untrusted or unknown CA: the certificate does not lead to a root CA that is trusted.',
    verdict_certificate_expired:
      'Expired certificate: the signer’s certificate is past its end date. Mail programs show the signature as not valid.',
    verdict_certificate_not_yet_valid:
      'The signer’s certificate is not valid yet: check the clocks, or wait until its start date.',
    verdict_signing_time_mismatch:
      'Signing time and Date: disagree: they are more than an hour apart, and Thunderbird then shows the signature as not valid.',
    verdict_from_mismatch:
      'The signer is not the sender: From: is {from}, but the certificate names {addresses}.',
    verdict_weak_digest: 'Weak hash: the signature uses SHA-1, which current mail programs refuse.',
    verdict_certificate_wrong_purpose:
      'The certificate is not made for signing email, so mail programs do not accept it.',
    verdictCaNote:
      'Whether the CA that issued the certificate is trusted is decided by each reader’s mail program, from its own list of trusted CAs; this check does not judge it. The issuer is shown below.',
    verdictProblems: 'Problems found',
    verdictFacts: 'Details',
    signerAddresses: 'The certificate names',
    signingTime: 'Signing time',
    validUntil: 'Valid until',
    tenantTitle: 'Tenant settings · {tenant}',
    renameTitle: 'Name and signing policy',
    renameSave: 'Save',
    renamed: 'Saved: the tenant is now called {name}.',
    deleteTitle: 'Delete this tenant',
    deleteWarning:
      'Deleting removes the tenant with its certificates, keys, SMTP credentials, webhooks and message history. Mail that uses its credentials is refused from then on. This cannot be undone.',
    deleteConfirm: 'To confirm, type the tenant’s name: {name}',
    deleteButton: 'Delete the tenant',
    deleteMismatch: 'The name you typed is not {name}: nothing was deleted.',
    deleted: 'The tenant {name} is deleted.',
    enableAgain: 'Enable again',
    enabledAgain: 'Enabled again: events go to {url}, starting with those that waited.',
    rotateSecret: 'Rotate the secret',
    confirmRotate:
      'Make a new signing secret for {url}? The old one stops working at once: the receiver must use the new one.',
    rotated: 'New signing secret for {url}',
  },
  errors: {},
};
