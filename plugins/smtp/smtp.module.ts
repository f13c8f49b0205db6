/**
 * The SMTP plugin: inbound submission (in the `smtp` role) and the outbound `smtp`
 * transport (registered in every role, so settings can be checked anywhere).
 */
import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import {
  INTAKE,
  SUBMISSION_CREDENTIALS,
  TransportRegistry,
  runs,
  type Intake,
  type PluginContext,
  type SubmissionCredentials,
} from '../../src/plugin/contract';
import { loadSmtpConfig } from './smtp.config';
import { SubmissionServer } from './submission-server';
import { SmtpTransport } from './smtp.transport';

const SUBMISSION_OPTIONS = Symbol('SubmissionOptions');

class SmtpLifecycle
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  readonly transport: SmtpTransport;
  server?: SubmissionServer;

  constructor(
    @Inject(SUBMISSION_OPTIONS)
    private readonly o: ReturnType<typeof loadSmtpConfig> & PluginContext,
    @Inject(INTAKE) private readonly intake: Intake,
    @Inject(SUBMISSION_CREDENTIALS) private readonly credentials: SubmissionCredentials,
    private readonly registry: TransportRegistry,
  ) {
    this.transport = new SmtpTransport(o.egress);
  }

  onModuleInit(): void {
    this.registry.register(this.transport);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!runs(this.o.role, 'smtp')) return;
    this.server = new SubmissionServer({
      config: this.o.config,
      tls: this.o.tls,
      maxMessageBytes: this.o.maxMessageBytes,
      intake: this.intake,
      credentials: this.credentials,
      metrics: this.o.metrics,
    });
    await this.server.listen();
  }

  /** Stop taking mail first; the worker finishes its messages meanwhile. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }

  /** Outbound pools close last, after the worker has stopped. */
  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }
}

@Module({})
export class SmtpPlugin {
  static register(ctx: PluginContext): DynamicModule {
    const loaded = loadSmtpConfig(ctx.env);
    return {
      module: SmtpPlugin,
      providers: [{ provide: SUBMISSION_OPTIONS, useValue: { ...ctx, ...loaded } }, SmtpLifecycle],
      exports: [SmtpLifecycle],
    };
  }
}

export { SmtpLifecycle };
