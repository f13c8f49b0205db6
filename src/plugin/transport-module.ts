/**
 * The Nest module of a plugin that only adds a delivery transport: it registers the
 * transport at start-up and closes it at shutdown.
 */
import {
  Inject,
  Injectable,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { TransportRegistry, type DeliveryTransport } from './contract';

const TRANSPORT = Symbol('DeliveryTransport');

@Injectable()
class TransportRegistration implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(TRANSPORT) private readonly transport: DeliveryTransport,
    private readonly registry: TransportRegistry,
  ) {}

  onModuleInit(): void {
    this.registry.register(this.transport);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close?.();
  }
}

/** `{ module: YourPlugin, … }` registering `transport`. */
export function transportModule(module: Type, transport: DeliveryTransport): DynamicModule {
  return {
    module,
    providers: [{ provide: TRANSPORT, useValue: transport }, TransportRegistration],
  };
}
