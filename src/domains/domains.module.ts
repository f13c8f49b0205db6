/**
 * Domain readiness. DNS goes to the system resolver, or to the servers in DNS_RESOLVER
 * (comma-separated IPs, e.g. "10.0.0.2,10.0.0.3:5353") for private networks.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { DnsLookupHolder, systemDnsLookup } from '../common/dns-lookup';
import { DomainsController } from './domains.controller';

@Module({})
export class DomainsModule {
  static register(processEnv: Record<string, string | undefined> = process.env): DynamicModule {
    return {
      module: DomainsModule,
      // Global: transit checks resolve DKIM keys through the same lookup.
      global: true,
      imports: [TenantsModule],
      controllers: [DomainsController],
      providers: [
        {
          provide: DnsLookupHolder,
          useValue: new DnsLookupHolder(systemDnsLookup(processEnv.DNS_RESOLVER)),
        },
      ],
      exports: [DnsLookupHolder],
    };
  }
}
