/** The Mautic plugin: the platform adapter (Do-Not-Contact feedback); mail arrives over SMTP. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { PluginContext } from '../../src/plugin/contract';
import { platformModule } from '../../src/plugin/platform-module';
import { MauticAdapter } from './mautic.adapter';

@Module({})
export class MauticPlugin {
  static register(_ctx: PluginContext): DynamicModule {
    return platformModule(MauticPlugin, new MauticAdapter());
  }
}
