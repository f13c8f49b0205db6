/**
 * The Nest module of a platform plugin: it registers the platform adapter at start-up and
 * serves the plugin's own controllers (an inbound endpoint, for instance).
 */
import {
  Inject,
  Injectable,
  type DynamicModule,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { PlatformRegistry, type PlatformAdapter } from './contract';

const ADAPTER = Symbol('PlatformAdapter');

@Injectable()
class PlatformRegistration implements OnModuleInit {
  constructor(
    @Inject(ADAPTER) private readonly adapter: PlatformAdapter,
    private readonly registry: PlatformRegistry,
  ) {}

  onModuleInit(): void {
    this.registry.register(this.adapter);
  }
}

/** `{ module: YourPlugin, … }` registering `adapter` and serving `controllers`. */
export function platformModule(
  module: Type,
  adapter: PlatformAdapter,
  controllers: Type[] = [],
): DynamicModule {
  return {
    module,
    controllers,
    providers: [{ provide: ADAPTER, useValue: adapter }, PlatformRegistration],
  };
}
