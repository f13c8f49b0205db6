/**
 * GET /metrics in the Prometheus text format: the process's default metrics and the
 * relay's own counters. No authentication, no labels that carry tenant data beyond ids.
 */
import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly signatures = new Counter({
    name: 'smime_relay_signatures_total',
    help: 'Messages signed, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly certificateUploads = new Counter({
    name: 'smime_relay_certificate_uploads_total',
    help: 'Certificate uploads, by result (stored or an error code)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'smime_relay_' });
  }
}

@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
