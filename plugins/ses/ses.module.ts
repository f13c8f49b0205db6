/** The `ses` delivery transport (Amazon SES API v2), registered in every role. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { PluginContext } from '../../src/plugin/contract';
import { transportModule } from '../../src/plugin/transport-module';
import { SesTransport } from './ses.transport';

@Module({})
export class SesPlugin {
  static register(ctx: PluginContext): DynamicModule {
    return transportModule(SesPlugin, new SesTransport(ctx.egress));
  }
}
