/** What a tenant stores for a listmonk integration. */
import { Type } from 'class-transformer';
import { IsOptional, IsString, IsUrl, MinLength, ValidateNested } from 'class-validator';

/** A listmonk API user and its token (Admin → Users), for the bounce webhook. */
export class ListmonkBounceLogin {
  @IsString()
  @MinLength(1)
  username!: string;

  @IsString()
  @MinLength(1)
  password!: string;
}

export class ListmonkSettings {
  /** listmonk's public root URL (Settings → General → Root URL), e.g. https://lists.example.com */
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'rootUrl must be listmonk’s root URL, starting with http:// or https://' },
  )
  rootUrl!: string;

  /** When set, permanent failures are recorded as bounces through listmonk's bounce webhook. */
  @IsOptional()
  @ValidateNested()
  @Type(() => ListmonkBounceLogin)
  bounce?: ListmonkBounceLogin;
}

/** rootUrl without a trailing slash. */
export const rootOf = (s: ListmonkSettings): string => s.rootUrl.replace(/\/+$/, '');
