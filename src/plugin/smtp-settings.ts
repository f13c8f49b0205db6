/** Settings shared by transports that deliver through a provider's SMTP relay. */
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

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
