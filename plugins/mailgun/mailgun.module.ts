/** The Mailgun plugin: registers the `mailgun` delivery transport. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { PluginContext } from '../../src/plugin/contract';
import { transportModule } from '../../src/plugin/transport-module';
import { MailgunTransport } from './mailgun.transport';

@Module({})
export class MailgunPlugin {
  static register(ctx: PluginContext): DynamicModule {
    return transportModule(MailgunPlugin, new MailgunTransport(ctx.egress));
  }
}
