/** The SendGrid plugin: registers the `sendgrid` delivery transport (SMTP relay). */
import { Module, type DynamicModule } from '@nestjs/common';
import type { PluginContext } from '../../src/plugin/contract';
import { transportModule } from '../../src/plugin/transport-module';
import { SendgridTransport } from './sendgrid.transport';

@Module({})
export class SendgridPlugin {
  static register(ctx: PluginContext): DynamicModule {
    return transportModule(SendgridPlugin, new SendgridTransport(ctx.egress));
  }
}
