/**
 * Settings shared by provider transports: where a provider's SMTP relay listens (SendGrid,
 * Postmark), and the API key, region and API root of an HTTP API (Mailgun, SparkPost).
 */
import 'reflect-metadata'; // @Type() reads design types
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import type { SettingsFieldDeclaration } from './contract';

/**
 * Where a provider's SMTP relay listens, for proxies and tests: a subclass sets the
 * provider's host as the default. Port 587 with STARTTLS required; the certificate is
 * checked unless a private test host says otherwise.
 */
export class ProviderSmtpEndpoint {
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9.-]{1,253}$/, { message: 'host must be a host name or an IP address' })
  host!: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  port = 587;

  /** Check the server's certificate (default true; false only for a private test host). */
  @IsOptional()
  @IsBoolean()
  rejectUnauthorized = true;
}

/** An HTTP API reached with an API key, in the provider's `us` or `eu` region. */
export class ProviderApiSettings {
  /** The provider's API key (secret). */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @Matches(/^[\x21-\x7e]+$/, { message: 'apiKey must be printable ASCII without spaces' })
  apiKey!: string;

  /** Where the account lives: `us` (the default) or `eu`. */
  @IsOptional()
  @IsIn(['us', 'eu'])
  region: 'us' | 'eu' = 'us';

  /** Another API root instead of the region's (a proxy, an enterprise endpoint, a test stand-in). */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  @MaxLength(2048)
  baseUrl?: string;
}

/** The API root for these settings: `baseUrl` if set, else the region's; no trailing slash. */
export function apiRootOf(
  s: Pick<ProviderApiSettings, 'baseUrl' | 'region'>,
  roots: Record<'us' | 'eu', string>,
): string {
  return (s.baseUrl ?? roots[s.region ?? 'us']).replace(/\/+$/, '');
}

/** The form fields of ProviderSmtpEndpoint: only the operator changes them from the provider's. */
export function providerSmtpEndpointFields(provider: string): SettingsFieldDeclaration[] {
  return [
    {
      name: 'host',
      label: 'SMTP host',
      type: 'text',
      help: `${provider}'s SMTP relay. Another host (a proxy) is the operator's to set.`,
    },
    {
      name: 'port',
      label: 'Port',
      type: 'integer',
      min: 1,
      max: 65535,
      help: 'STARTTLS on 587 (or 25, 2525).',
    },
    {
      name: 'rejectUnauthorized',
      label: "Check the server's TLS certificate",
      type: 'boolean',
      help: 'Leave on; off only for a private test host.',
    },
  ];
}

/** The form fields of ProviderApiSettings, with the provider's words for its API key. */
export function providerApiFields(provider: string, keyHelp: string): SettingsFieldDeclaration[] {
  return [
    { name: 'apiKey', label: 'API key', type: 'secret', required: true, help: keyHelp },
    {
      name: 'region',
      label: 'Region',
      type: 'choice',
      choices: ['us', 'eu'],
      help: `Where the ${provider} account lives: us or eu.`,
    },
    {
      name: 'baseUrl',
      label: 'API root URL',
      type: 'url',
      help: "Another API root than the region's (a proxy, an enterprise endpoint). Usually empty.",
      placeholder: 'https://',
    },
  ];
}
