/** The Postmark plugin: registers the `postmark` delivery transport (SMTP). */
import { Module, type DynamicModule } from '@nestjs/common';
import type { PluginContext } from '../../src/plugin/contract';
import { transportModule } from '../../src/plugin/transport-module';
import { PostmarkTransport } from './postmark.transport';

@Module({})
export class PostmarkPlugin {
  static register(ctx: PluginContext): DynamicModule {
    return transportModule(PostmarkPlugin, new PostmarkTransport(ctx.egress));
  }
}
