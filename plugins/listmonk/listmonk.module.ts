/** The listmonk plugin: the postback endpoint and the platform adapter (bounce feedback). */
import { Module, type DynamicModule } from '@nestjs/common';
import type { PluginContext } from '../../src/plugin/contract';
import { platformModule } from '../../src/plugin/platform-module';
import { ListmonkAdapter } from './listmonk.adapter';
import { ListmonkPostbackController } from './postback.controller';

@Module({})
export class ListmonkPlugin {
  static register(_ctx: PluginContext): DynamicModule {
    return platformModule(ListmonkPlugin, new ListmonkAdapter(), [ListmonkPostbackController]);
  }
}
