import { Module, type DynamicModule } from '@nestjs/common';
import { runs, type Role } from '../plugin/contract';
import { TenantsModule } from '../tenants/tenants.module';
import { TransitController } from './transit.controller';
import { TransitChecks } from './transit-checks';
import { TransitCheckRecords } from './transit-check-records';
import { TransitSettingsStore } from './transit-settings';

/** Transit checks; the scheduler runs in processes with the worker role. */
@Module({})
export class TransitModule {
  static register(role: Role): DynamicModule {
    return {
      module: TransitModule,
      imports: [TenantsModule],
      controllers: [TransitController],
      providers: [
        TransitSettingsStore,
        TransitCheckRecords,
        TransitChecks,
        { provide: 'TRANSIT_SCHEDULER', useValue: runs(role, 'worker') },
      ],
      exports: [TransitChecks],
    };
  }
}
