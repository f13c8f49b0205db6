/**
 * Events: the registry of sinks everywhere (webhooks and integrations register theirs), the
 * outbox, and where the role includes `worker` the dispatcher and the delivery runner.
 * Global, so the sink owners reach the registry and the outbox.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { runs, type Role } from '../plugin/contract';
import { DeliveryRunner } from './delivery-runner';
import { Dispatcher } from './dispatcher';
import { EventDeliveries } from './event-deliveries';
import { EventSinks } from './event-sinks';

@Module({})
export class EventsModule {
  static register(role: Role): DynamicModule {
    return {
      module: EventsModule,
      global: true,
      providers: [
        EventSinks,
        EventDeliveries,
        ...(runs(role, 'worker') ? [Dispatcher, DeliveryRunner] : []),
      ],
      exports: [EventSinks, EventDeliveries],
    };
  }
}
