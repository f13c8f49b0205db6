/**
 * The admin API described by OpenAPI: the document at /docs-json, a browsable view at /docs.
 */
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('smime-relay admin API')
    .setDescription(
      'Tenants, API keys and S/MIME certificates. Authenticate with Authorization: Bearer and ' +
        'the operator token or a tenant API key. Errors are {"error": {"code", "message"}}.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
