import { Module } from '@nestjs/common';
import { UnsubscribeController } from './unsubscribe.controller';
import { UnsubscribeLinks } from './unsubscribe-links';

/** Short one-click unsubscribe links and their public route, /u/:token. */
@Module({
  controllers: [UnsubscribeController],
  providers: [UnsubscribeLinks],
  exports: [UnsubscribeLinks],
})
export class UnsubscribeModule {}
