/**
 * The egress policy for tests whose provider stand-ins and upstreams listen on loopback: an
 * operator who allowed exactly that (PROVIDER_API_ALLOW_PRIVATE, SMTP_UPSTREAM_ALLOW).
 */
import { EgressPolicy } from '../../src/egress/egress-policy';

export const LOOPBACK_ALLOWED = {
  PROVIDER_API_ALLOW_PRIVATE: 'true',
  SMTP_UPSTREAM_ALLOW: '127.0.0.0/8,::1/128',
};

export const loopbackEgress = (): EgressPolicy =>
  new EgressPolicy({
    PROVIDER_API_ALLOW_PRIVATE: true,
    SMTP_UPSTREAM_ALLOW: '127.0.0.0/8,::1/128',
  });
