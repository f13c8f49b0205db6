// nodemailer-smime 1.1 ships no types; this covers what the benchmark uses (see its README).
declare module 'nodemailer-smime' {
  import type Mail from 'nodemailer/lib/mailer';

  interface SmimeOptions {
    /** PEM certificate to sign with and bundle. */
    cert: string;
    /** PEM certificates to bundle. */
    chain?: string[];
    /** PEM private key of `cert`. */
    key: string;
  }

  function smime(options: SmimeOptions): Mail.PluginFunction;
  export = smime;
}
