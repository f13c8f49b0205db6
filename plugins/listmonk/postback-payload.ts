/**
 * The JSON listmonk's HTTP postback messenger posts (internal/messenger/postback in
 * listmonk): subject, content_type, body, recipients[{uuid, email, name, attribs, status}],
 * campaign {uuid, name, from_email, headers, tags} (null for some messages),
 * attachments[{name, header, content (base64)}]; from_email also at the top level in some
 * versions. Validated whole by class-validator DTOs before anything is accepted: a bad
 * payload spools nothing. Fields listmonk adds that the relay does not read (attribs,
 * status, tags, and those of later versions) are ignored, not refused.
 */
import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsObject,
  IsString,
  Matches,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  validateSync,
  type ValidationArguments,
  type ValidationError,
} from 'class-validator';
import { RelayError } from '../../src/plugin/relay-error';

export interface PostbackRecipient {
  uuid: string;
  email: string;
  name: string;
}

export interface PostbackAttachment {
  name: string;
  /** MIME header of the part, each field a list of values (Go's textproto.MIMEHeader). */
  header: Record<string, string[]>;
  content: Buffer;
}

export interface Postback {
  subject: string;
  /** 'plain' is text; everything else (html, richtext, markdown, visual) arrives as HTML. */
  contentType: string;
  body: string;
  fromEmail: string;
  recipients: PostbackRecipient[];
  campaign?: { uuid: string; name: string; headers: Record<string, string>[] };
  attachments: PostbackAttachment[];
}

const MAILBOX = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** listmonk posts one recipient per message; a list this long is not a postback. */
export const MAX_RECIPIENTS = 1000;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// Messages are written after the field's path ("recipients[0].email is required"); a
// message starting with "." or "[" continues the path (a key inside a map or list).
const required = { message: 'is required' };
const aString = { message: 'must be a string' };
const notAnAddress = {
  message: (a: ValidationArguments) => `is not an email address: ${JSON.stringify(a.value)}`,
};
const present = (_: object, v: unknown) => v !== undefined && v !== null;
const trimmed = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim() : value;

/** The first entry of a header map that is not a list of strings, or undefined. */
function badHeaderList(v: unknown): string | undefined {
  if (!isObject(v)) return '';
  return Object.keys(v).find((k) => {
    const vs = v[k];
    return !Array.isArray(vs) || vs.some((x) => typeof x !== 'string');
  });
}

/** Go's textproto.MIMEHeader: header names to lists of values. */
const IsHeaderLists = () =>
  ValidateBy({
    name: 'isHeaderLists',
    validator: {
      validate: (v) => badHeaderList(v) === undefined,
      defaultMessage: (a) => {
        const key = badHeaderList(a?.value);
        return key
          ? `.${key} must be a list of strings`
          : ' must be an object of header names to lists';
      },
    },
  });

/** The first problem in campaign.headers (a list of {"Name": "value"} objects), or undefined. */
function campaignHeadersProblem(v: unknown): string | undefined {
  if (!Array.isArray(v)) return ' must be a list of {"Name": "value"} objects';
  for (const [i, h] of v.entries()) {
    if (!isObject(h) || Object.values(h).some((x) => typeof x !== 'string')) {
      return `[${i}] must be an object of header names to string values`;
    }
    for (const [name, value] of Object.entries(h as Record<string, string>)) {
      const address = value.trim().replace(/^<(.*)>$/, '$1');
      if (name.toLowerCase() === 'return-path' && !MAILBOX.test(address)) {
        return `[${i}].Return-Path is not an email address: ${JSON.stringify(value)}`;
      }
    }
  }
  return undefined;
}

const IsCampaignHeaders = () =>
  ValidateBy({
    name: 'isCampaignHeaders',
    validator: {
      validate: (v) => campaignHeadersProblem(v) === undefined,
      defaultMessage: (a) => campaignHeadersProblem(a?.value) ?? '',
    },
  });

export class PostbackRecipientDto {
  @IsDefined(required)
  @IsString(aString)
  uuid!: string;

  @Transform(trimmed)
  @IsDefined(required)
  @IsString(aString)
  @Matches(MAILBOX, notAnAddress)
  email!: string;

  @ValidateIf(present)
  @IsString(aString)
  name?: string | null;
}

export class PostbackAttachmentDto {
  @IsDefined(required)
  @IsString(aString)
  name!: string;

  @ValidateIf(present)
  @IsString(aString)
  @Matches(BASE64, { message: 'must be base64' })
  content?: string | null;

  @ValidateIf(present)
  @IsHeaderLists()
  header?: Record<string, string[]> | null;
}

export class PostbackCampaignDto {
  @IsDefined(required)
  @IsString(aString)
  uuid!: string;

  @ValidateIf(present)
  @IsString(aString)
  name?: string | null;

  @ValidateIf(present)
  @IsString(aString)
  from_email?: string | null;

  @ValidateIf(present)
  @IsCampaignHeaders()
  headers?: Record<string, string>[] | null;
}

const eachObject = {
  each: true,
  message: (a: ValidationArguments) =>
    Array.isArray(a.value) ? ' entries must be objects' : ' must be an object',
};

export class ListmonkPostbackDto {
  @IsDefined(required)
  @IsString(aString)
  subject!: string;

  @IsDefined(required)
  @IsString(aString)
  content_type!: string;

  @IsDefined(required)
  @IsString(aString)
  body!: string;

  @ValidateIf(present)
  @IsString(aString)
  from_email?: string | null;

  @IsArray({ message: 'must be a non-empty list' })
  @ArrayMinSize(1, { message: 'must be a non-empty list' })
  @ArrayMaxSize(MAX_RECIPIENTS, {
    message: (a: ValidationArguments) =>
      `has ${(a.value as unknown[]).length} entries; at most ${MAX_RECIPIENTS} per postback`,
  })
  @ValidateNested(eachObject)
  @Type(() => PostbackRecipientDto)
  recipients!: PostbackRecipientDto[];

  @ValidateIf(present)
  @IsObject({ message: 'must be an object or null' })
  @ValidateNested({ message: 'must be an object or null' })
  @Type(() => PostbackCampaignDto)
  campaign?: PostbackCampaignDto | null;

  @ValidateIf(present)
  @IsArray({ message: 'must be a list or null' })
  @ValidateNested(eachObject)
  @Type(() => PostbackAttachmentDto)
  attachments?: PostbackAttachmentDto[] | null;
}

/** Each problem as "path message", with list indexes in brackets: "recipients[0].email is required". */
function describe(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((e) => {
    const at = /^\d+$/.test(e.property)
      ? `${path}[${e.property}]`
      : path
        ? `${path}.${e.property}`
        : e.property;
    const c = e.constraints ?? {};
    // A missing or mistyped field says only that; otherwise every rule it breaks.
    const first = ['isDefined', 'isString', 'isArray', 'isObject'].find((k) => k in c);
    const own = (first ? [c[first]] : Object.values(c)).map((m) =>
      /^[.[ ]/.test(m) ? `${at}${m}` : `${at} ${m}`,
    );
    return own.length > 0 ? own.slice(0, 1) : describe(e.children ?? [], at);
  });
}

/** The payload, validated; invalid_request naming each field in trouble otherwise. */
export function parsePostback(body: unknown): Postback {
  if (!isObject(body)) {
    throw new RelayError('invalid_request', 'the body must be a JSON object as listmonk posts it');
  }
  const dto = plainToInstance(ListmonkPostbackDto, body);
  const errors = validateSync(dto, { forbidUnknownValues: false });
  if (errors.length > 0) throw new RelayError('invalid_request', describe(errors).join('; '));
  const campaign = dto.campaign ?? undefined;
  const fromEmail = dto.from_email || campaign?.from_email || '';
  if (!fromEmail) {
    throw new RelayError(
      'invalid_request',
      'from_email is required (in the payload or in campaign.from_email)',
    );
  }
  return {
    subject: dto.subject,
    contentType: dto.content_type,
    body: dto.body,
    fromEmail,
    recipients: dto.recipients.map((r) => ({ uuid: r.uuid, email: r.email, name: r.name ?? '' })),
    campaign: campaign
      ? { uuid: campaign.uuid, name: campaign.name ?? '', headers: campaign.headers ?? [] }
      : undefined,
    attachments: (dto.attachments ?? []).map((a) => ({
      name: a.name,
      header: Object.fromEntries(
        Object.entries(a.header ?? {}).map(([k, vs]) => [k.toLowerCase(), vs]),
      ),
      content: Buffer.from(a.content ?? '', 'base64'),
    })),
  };
}
