/**
 * Each delivery transport declares its settings fields, and GET /v1/about publishes them for
 * the console's forms. The declarations must say what the settings classes check: every
 * field a class accepts is declared and nothing else; a field is `required` exactly when the
 * class refuses settings without it; `secret` and `operatorOnly` follow the transport; the
 * defaults are the class's own. Settings made only of declared values are saved by the API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getMetadataStorage } from 'class-validator';
import { startApp, type TestApp } from '../support/app';
import { op } from '../support/relay';
import { TransportRegistry, type SettingsField } from '../../src/plugin/contract';
import { deletePath, setPath, validated } from '../../src/common/settings-fields';

/** Every JSON path a settings class validates, nested classes included ("auth.user"). */
function validatedPaths(cls: new () => object, prefix = ''): string[] {
  const storage = getMetadataStorage();
  const metas = storage.getTargetValidationMetadatas(cls, '', true, false);
  const paths = new Set<string>();
  for (const m of metas) {
    if (m.type === 'nestedValidation') {
      const nested = Reflect.getMetadata('design:type', cls.prototype, m.propertyName) as
        (new () => object) | undefined;
      if (nested && nested !== Object) {
        for (const p of validatedPaths(nested, `${prefix}${m.propertyName}.`)) paths.add(p);
        continue;
      }
    }
    paths.add(`${prefix}${m.propertyName}`);
  }
  // A nested group is declared by its fields, not by itself.
  for (const p of [...paths]) if ([...paths].some((q) => q.startsWith(`${p}.`))) paths.delete(p);
  return [...paths].sort();
}

const SAMPLES: Record<string, string> = {
  'ses.region': 'eu-west-1',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  domain: 'mg.example.com',
  host: 'smtp.example.com',
  configurationSet: 'newsletters',
  messageStream: 'broadcast',
};

/** A value for `f` the class accepts: the example, the default, or one per type. */
function sampleValue(transport: string, f: SettingsField): unknown {
  if (f.secret) return `secret-of-${f.name}`;
  if (f.tenantChoices?.length) return f.tenantChoices[0];
  if (f.default !== undefined) return f.default;
  if (f.choices?.length) return f.choices[0];
  switch (f.type) {
    case 'integer':
      return f.min ?? 1;
    case 'boolean':
      return true;
    case 'url':
      return 'https://api.example.com';
    default:
      return SAMPLES[f.name === 'region' ? `${transport}.region` : f.name] ?? 'value-1';
  }
}

describe('transport settings fields', () => {
  let app: TestApp;
  let fields: Record<string, SettingsField[]>;
  let registry: TransportRegistry;

  before(async () => {
    app = await startApp();
    registry = app.nest.get(TransportRegistry);
    const r = await app.request('GET', '/v1/about', op);
    assert.equal(r.status, 200, r.text);
    fields = r.json.transportFields;
  });
  after(() => app?.close());

  test('every transport publishes its fields', () => {
    assert.deepEqual(Object.keys(fields).sort(), registry.ids());
    for (const [id, list] of Object.entries(fields)) {
      assert.ok(list.length > 0, id);
      for (const f of list) {
        assert.ok(f.label && f.help, `${id}.${f.name} has a label and help`);
        assert.ok(
          ['text', 'secret', 'integer', 'boolean', 'choice', 'url'].includes(f.type),
          `${id}.${f.name}: ${f.type}`,
        );
        if (f.type === 'choice') assert.ok(f.choices?.length, `${id}.${f.name} lists choices`);
      }
    }
  });

  test('the declared fields are exactly the fields each settings class checks', () => {
    for (const t of registry.all()) {
      const declared = fields[t.id].map((f) => f.name).sort();
      assert.deepEqual(declared, validatedPaths(t.settings), t.id);
    }
  });

  test('secret and operator-only follow the transport; secrets are entered as secrets', () => {
    for (const t of registry.all()) {
      for (const f of fields[t.id]) {
        assert.equal(f.secret, t.secretFields.includes(f.name), `${t.id}.${f.name} secret`);
        assert.equal(f.secret, f.type === 'secret', `${t.id}.${f.name} is a password box`);
        assert.equal(
          f.operatorOnly,
          t.operatorFields?.includes(f.name) ?? false,
          `${t.id}.${f.name} operator-only`,
        );
      }
    }
  });

  test('required fields are the ones the class refuses to go without', async () => {
    for (const t of registry.all()) {
      const full: Record<string, unknown> = {};
      for (const f of fields[t.id]) {
        if (f.required || f.name.startsWith('auth.')) setPath(full, f.name, sampleValue(t.id, f));
      }
      await validated(t.settings, full);
      for (const f of fields[t.id]) {
        if (f.name.startsWith('auth.')) continue; // optional as a group
        const without = structuredClone(full);
        deletePath(without, f.name);
        const refused = await validated(t.settings, without).then(
          () => false,
          () => true,
        );
        assert.equal(refused, f.required, `${t.id}.${f.name} required=${f.required}`);
      }
    }
  });

  test("defaults are the class's own", () => {
    const smtp = Object.fromEntries(fields.smtp.map((f) => [f.name, f.default]));
    assert.equal(smtp.port, 587);
    assert.equal(smtp.rejectUnauthorized, true);
    assert.equal(smtp.host, undefined);
    const sendgrid = Object.fromEntries(fields.sendgrid.map((f) => [f.name, f]));
    assert.equal(sendgrid.host.default, 'smtp.sendgrid.net');
    assert.ok(sendgrid.host.operatorOnly);
    assert.deepEqual(sendgrid.host.tenantChoices, ['smtp.sendgrid.net']);
    assert.equal(sendgrid.signatureFormat.default, 'opaque');
  });

  test('settings made of declared values only are saved, and secrets come back redacted', async () => {
    const t = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Forms' } });
    for (const id of registry.ids()) {
      const body: Record<string, unknown> = { transport: id };
      for (const f of fields[id]) {
        if (f.operatorOnly && !f.tenantChoices) continue;
        if (f.type === 'url') continue; // provider endpoints follow the egress policy
        setPath(body, f.name, sampleValue(id, f));
      }
      const r = await app.request('PUT', `/v1/tenants/${t.json.id}/delivery`, { ...op, body });
      assert.equal(r.status, 200, `${id}: ${r.text}`);
      for (const f of fields[id].filter((x) => x.secret)) {
        assert.ok(!r.text.includes(`secret-of-${f.name}`), `${id}: ${f.name} came back`);
        assert.ok(r.text.includes('[redacted]'), `${id}: ${r.text}`);
      }
    }
  });
});
