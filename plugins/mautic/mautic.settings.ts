/** What a tenant stores for a Mautic integration: where its API is and how to sign in. */
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/** Basic auth (an API user) or OAuth2 client credentials (Settings → API Credentials). */
export class MauticCredentials {
  @IsIn(['basic', 'oauth2'], { message: 'credentials.type must be "basic" or "oauth2"' })
  type!: 'basic' | 'oauth2';

  @ValidateIf((c: MauticCredentials) => c.type === 'basic')
  @IsString()
  @MinLength(1)
  username?: string;

  @ValidateIf((c: MauticCredentials) => c.type === 'basic')
  @IsString()
  @MinLength(1)
  password?: string;

  @ValidateIf((c: MauticCredentials) => c.type === 'oauth2')
  @IsString()
  @MinLength(1)
  clientId?: string;

  @ValidateIf((c: MauticCredentials) => c.type === 'oauth2')
  @IsString()
  @MinLength(1)
  clientSecret?: string;
}

export class MauticSettings {
  /** Mautic's site URL (Configuration → System Settings → Site URL), e.g. https://mautic.example.com */
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'baseUrl must be Mautic’s site URL, starting with http:// or https://' },
  )
  baseUrl!: string;

  @ValidateNested()
  @Type(() => MauticCredentials)
  credentials!: MauticCredentials;

  /**
   * Also mark contacts Do-Not-Contact when the relay would not sign their message (no valid
   * certificate). Off by default: that is the sender's problem, not the contact's, and a
   * DNC entry stops every later email to them.
   */
  @IsOptional()
  @IsBoolean()
  dncOnSigningFailure?: boolean;
}

/** baseUrl without a trailing slash. */
export const baseOf = (s: MauticSettings): string => s.baseUrl.replace(/\/+$/, '');
