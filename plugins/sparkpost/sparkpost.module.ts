/** The SparkPost plugin: registers the `sparkpost` delivery transport. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { PluginContext } from '../../src/plugin/contract';
import { transportModule } from '../../src/plugin/transport-module';
import { SparkPostTransport } from './sparkpost.transport';

@Module({})
export class SparkPostPlugin {
  static register(ctx: PluginContext): DynamicModule {
    return transportModule(SparkPostPlugin, new SparkPostTransport(ctx.egress));
  }
}
