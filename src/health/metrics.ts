/**
 * GET /metrics in the Prometheus text format: the process's default metrics and the
 * relay's own counters. No authentication, no labels that carry tenant data beyond ids.
 */
import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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
  readonly intake = new Counter({
    name: 'smime_relay_intake_total',
    help: 'Messages handed to Intake, by source and outcome (accepted or an error code)',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly refusalsUnrecorded = new Counter({
    name: 'smime_relay_refusals_unrecorded_total',
    help: 'Intake refusals that could not be written to the refusal log (database down, or too many at once)',
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'smime_relay_delivery_attempts_total',
    help: 'Delivery attempts, by outcome (delivered, sent_unsigned, retry, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'smime_relay_accepted_to_delivered_seconds',
    help: 'Time from acceptance to delivery of messages delivered on their first attempt',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly smtpAuthFailures = new Counter({
    name: 'smime_relay_smtp_auth_failures_total',
    help: 'Failed SMTP AUTH attempts, by reason (bad_credentials, or throttled while locked out)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly smtpConnectionsRefused = new Counter({
    name: 'smime_relay_smtp_connections_refused_total',
    help: 'SMTP connections refused, by reason (too_many_total, too_many_from_address)',
    labelNames: ['reason'] as const,
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
