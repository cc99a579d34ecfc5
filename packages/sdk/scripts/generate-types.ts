/**
 * Writes `src/api-types.gen.ts`: the SDK's request and response types, derived from the zod
 * schemas of `@hookline/api` (the same ones the gateway validates with) and printed as plain
 * TypeScript, so that the published declarations import neither zod nor `@hookline/api`.
 *
 * Keys are camelCased, except inside free-form maps (`headers`, `metadata`, `payload`, …), which
 * keep the user's keys as they are. `test/types.test-d.ts` pins every printed type to the
 * schema's inferred type, and `test/generated-types.test.ts` fails when this file is stale.
 *
 * Run: `pnpm --filter @hookline/sdk generate`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as api from '@hookline/api';
import type { z } from 'zod';

/** Whether a type describes what the SDK sends (`input`) or what it receives (`output`). */
type Io = 'input' | 'output';

interface TypeSpec {
  name: string;
  doc: string;
  schema: z.ZodType;
  io: Io;
  /**
   * Wire keys whose TypeScript type is widened on purpose: a payload typed as `object` accepts
   * values of interface types, which `Record<string, unknown>` refuses (interfaces have no index
   * signature). The SDK checks at run time that such a value is a plain JSON object.
   */
  widen?: Record<string, string>;
}

// Zod 4 keeps a schema's definition on `_zod.def`; only the fields read here are typed.
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  entries?: Record<string, string | number>;
  values?: unknown[];
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Named enums: a schema with the same members prints as the name. */
const ENUMS: TypeSpec[] = [
  {
    name: 'EndpointStatus',
    doc: 'Endpoint status.',
    schema: api.endpointStatusSchema,
    io: 'output',
  },
  {
    name: 'EndpointDisabledReason',
    doc: 'Why an endpoint is `disabled`: set through the API, answered 410 Gone, or failed too long.',
    schema: api.endpointDisabledReasonSchema,
    io: 'output',
  },
  {
    name: 'Signing',
    doc: 'Signature scheme of an endpoint: `hmac` (v1, `whsec_`) or `ed25519` (v1a, `whsk_`/`whpk_`).',
    schema: api.signingSchema,
    io: 'output',
  },
  {
    name: 'DeliveryStatus',
    doc: 'Delivery status.',
    schema: api.deliveryStatusSchema,
    io: 'output',
  },
  {
    name: 'AttemptTrigger',
    doc: 'What started an attempt.',
    schema: api.attemptTriggerSchema,
    io: 'output',
  },
  {
    name: 'AttemptOutcome',
    doc: 'How an attempt ended.',
    schema: api.attemptOutcomeSchema,
    io: 'output',
  },
  {
    name: 'Health',
    doc: 'Endpoint health from the recent failure rate.',
    schema: api.healthSchema,
    io: 'output',
  },
  {
    name: 'StatsWindow',
    doc: 'The windows endpoint stats can aggregate over.',
    schema: api.statsWindowSchema,
    io: 'output',
  },
];

/** Objects the gateway answers with. */
const RESPONSES: TypeSpec[] = [
  {
    name: 'EndpointRotation',
    doc: 'Set on an endpoint while a rotation is live and the previous secret still signs.',
    schema: api.endpointRotationSchema,
    io: 'output',
  },
  {
    name: 'Endpoint',
    doc: 'A tenant’s endpoint: everything but the secret.',
    schema: api.endpointSchema,
    io: 'output',
  },
  {
    name: 'EndpointWithSecret',
    doc: 'A new endpoint with its `secret`: the only time the secret is shown.',
    schema: api.endpointWithSecretSchema,
    io: 'output',
  },
  {
    name: 'RotatedSecret',
    doc: 'The answer of a rotation: the new secret, and when the previous one stops signing.',
    schema: api.endpointRotateSecretResponseSchema,
    io: 'output',
  },
  {
    name: 'EndpointStats',
    doc: 'Delivery counts, success rate, latency and health of an endpoint over a window.',
    schema: api.endpointStatsSchema,
    io: 'output',
  },
  {
    name: 'RecoverResult',
    doc: 'The answer of a recovery: how many deliveries were queued for replay.',
    schema: api.endpointRecoverResponseSchema,
    io: 'output',
  },
  {
    name: 'AttemptSummary',
    doc: 'An attempt as listed in `lastAttempt`: the outcome, without headers and bodies.',
    schema: api.attemptSummarySchema,
    io: 'output',
  },
  {
    name: 'Attempt',
    doc: 'One HTTP request to an endpoint, with its full outcome.',
    schema: api.attemptSchema,
    io: 'output',
  },
  {
    name: 'Delivery',
    doc: 'One message × one endpoint.',
    schema: api.deliverySchema,
    io: 'output',
  },
  {
    name: 'DeliveryWithAttempts',
    doc: 'A delivery with every attempt, oldest first.',
    schema: api.deliveryWithAttemptsSchema,
    io: 'output',
  },
  {
    name: 'MessageAccepted',
    doc: 'The answer of `messages.create`: the message and its deliveries are committed.',
    schema: api.messageAcceptedSchema,
    io: 'output',
  },
  {
    name: 'Message',
    doc: 'One event sent for one tenant; its id is the `webhook-id` of every delivery of it.',
    schema: api.messageSchema,
    io: 'output',
  },
  {
    name: 'EventType',
    doc: 'An event type catalog entry.',
    schema: api.eventTypeSchema,
    io: 'output',
  },
  {
    name: 'AlertChannels',
    doc: 'Where a tenant’s `delivery.dead` and `endpoint.disabled` alerts go.',
    schema: api.alertChannelsSchema,
    io: 'output',
  },
  {
    name: 'PortalLink',
    doc: 'A minted portal link; the token is shown only here.',
    schema: api.portalLinkSchema,
    io: 'output',
  },
  {
    name: 'ErrorDetail',
    doc: 'One bad field of a 400: its wire path (`retry_schedule[2]`) and why.',
    schema: api.errorDetailSchema,
    io: 'output',
  },
  {
    name: 'HealthStatus',
    doc: 'The answer of `GET /healthz`.',
    schema: api.healthResponseSchema,
    io: 'output',
  },
  {
    name: 'ReadinessStatus',
    doc: 'The answer of `GET /readyz` when ready.',
    schema: api.readinessResponseSchema,
    io: 'output',
  },
];

/** What the SDK sends: request bodies and list filters. */
const REQUESTS: TypeSpec[] = [
  {
    name: 'EndpointCreateParams',
    doc: 'What `endpoints.create` takes.',
    schema: api.endpointCreateRequestSchema,
    io: 'input',
  },
  {
    name: 'EndpointUpdateParams',
    doc: 'What `endpoints.update` takes: any subset of the mutable fields.',
    schema: api.endpointPatchRequestSchema,
    io: 'input',
  },
  {
    name: 'EndpointRotateSecretParams',
    doc: 'What `endpoints.rotateSecret` takes.',
    schema: api.endpointRotateSecretRequestSchema,
    io: 'input',
  },
  {
    name: 'EndpointTestParams',
    doc: 'What `endpoints.sendTest` takes.',
    schema: api.endpointTestRequestSchema,
    io: 'input',
    widen: { payload: 'object' },
  },
  {
    name: 'EndpointRecoverParams',
    doc: 'What `endpoints.recover` takes.',
    schema: api.endpointRecoverRequestSchema,
    io: 'input',
    widen: { since: 'string | Date' },
  },
  {
    name: 'EndpointListParams',
    doc: 'Filters and paging of `endpoints.list`.',
    schema: api.endpointListQuerySchema,
    io: 'input',
  },
  {
    name: 'EndpointStatsParams',
    doc: 'What `endpoints.stats` takes.',
    schema: api.endpointStatsQuerySchema,
    io: 'input',
  },
  {
    name: 'MessageCreateParams',
    doc: 'What `messages.create` takes.',
    schema: api.messageCreateRequestSchema,
    io: 'input',
    widen: { payload: 'object' },
  },
  {
    name: 'MessageListParams',
    doc: 'Filters and paging of `messages.list`.',
    schema: api.messageListQuerySchema,
    io: 'input',
  },
  {
    name: 'DeliveryListParams',
    doc: 'Filters and paging of `deliveries.list`.',
    schema: api.deliveryListQuerySchema,
    io: 'input',
  },
  {
    name: 'EventTypeCreateParams',
    doc: 'What `eventTypes.create` takes.',
    schema: api.eventTypeCreateRequestSchema,
    io: 'input',
  },
  {
    name: 'EventTypeUpdateParams',
    doc: 'What `eventTypes.update` takes; `null` clears `schema` or `example`.',
    schema: api.eventTypePatchRequestSchema,
    io: 'input',
  },
  {
    name: 'EventTypeListParams',
    doc: 'Paging of `eventTypes.list`.',
    schema: api.eventTypeListQuerySchema,
    io: 'input',
  },
  {
    name: 'AlertChannelsParams',
    doc: 'What `tenants.setAlertChannels` takes: it replaces, so an absent or null channel is cleared.',
    schema: api.alertChannelsPutRequestSchema,
    io: 'input',
  },
  {
    name: 'PortalLinkCreateParams',
    doc: 'What `portal.createLink` takes.',
    schema: api.portalLinkCreateRequestSchema,
    io: 'input',
  },
];

/** Every type this generator prints, in file order. */
export const GENERATED_TYPES: readonly TypeSpec[] = [...ENUMS, ...RESPONSES, ...REQUESTS];

/** `tenant_id` → `tenantId`, `latency_ms_p50` → `latencyMsP50`. */
export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, char: string) => char.toUpperCase());
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function descriptionOf(schema: z.ZodType): string | undefined {
  let current: z.ZodType | undefined = schema;
  while (current) {
    if (current.description) return current.description;
    const def = defOf(current);
    current =
      def.type === 'optional' ||
      def.type === 'nullable' ||
      def.type === 'default' ||
      def.type === 'prefault'
        ? def.innerType
        : undefined;
  }
  return undefined;
}

function enumMembers(schema: z.ZodType): string[] | undefined {
  const def = defOf(schema);
  if (def.type !== 'enum' || !def.entries) return undefined;
  return Object.values(def.entries).map(quote);
}

const quote = (value: unknown): string =>
  typeof value === 'string'
    ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
    : JSON.stringify(value);

/** A TSDoc comment, wrapped to the house line width. */
function docComment(text: string, indent: string): string {
  const safe = text.replace(/\*\//g, '*\\/');
  const width = 100 - indent.length - 3;
  if (safe.length + 7 <= width + 3) return `${indent}/** ${safe} */`;
  const lines: string[] = [];
  let line = '';
  for (const word of safe.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`), `${indent} */`].join('\n');
}

function sameMembers(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((member, index) => member === b[index]);
}

class Printer {
  // Object schemas print as their names once declared (a response schema nested in another).
  private readonly named = new Map<z.ZodType, string>();

  constructor(private readonly specs: readonly TypeSpec[]) {}

  file(): string {
    const out: string[] = [
      '// Generated by scripts/generate-types.ts from the zod schemas of @hookline/api. Do not edit:',
      '// run `pnpm --filter @hookline/sdk generate`.',
      '',
    ];
    for (const spec of this.specs) {
      out.push(this.declaration(spec), '');
      this.named.set(spec.schema, spec.name);
    }
    return `${out.join('\n').trimEnd()}\n`;
  }

  private declaration(spec: TypeSpec): string {
    const doc = docComment(spec.doc, '');
    const def = defOf(spec.schema);
    if (def.type === 'object') {
      const base = this.baseOf(spec);
      const heading = `export interface ${spec.name}${base ? ` extends ${base.name}` : ''}`;
      const body = this.object(spec.schema, spec.io, '', base?.keys, spec.widen);
      return `${doc}\n${heading} ${body}`;
    }
    const type = this.type(spec.schema, spec.io, '', true);
    const text = `export type ${spec.name} = ${type};`;
    if (text.length <= 100 || !type.includes(' | ')) return `${doc}\n${text}`;
    return `${doc}\nexport type ${spec.name} =\n${type
      .split(' | ')
      .map((member) => `  | ${member}`)
      .join('\n')};`;
  }

  /**
   * An object printed earlier whose every field this one has, as the same schema (`.extend()`,
   * or a shared field list): this one is declared as extending it.
   */
  private baseOf(spec: TypeSpec): { name: string; keys: Set<string> } | undefined {
    const shape = defOf(spec.schema).shape ?? {};
    let best: { name: string; keys: Set<string> } | undefined;
    for (const [schema, name] of this.named) {
      const other = defOf(schema);
      if (other.type !== 'object' || !other.shape) continue;
      const keys = Object.keys(other.shape);
      // A base of one or two fields is a coincidence of shared primitives, not a parent.
      if (keys.length < 3 || keys.length >= Object.keys(shape).length) continue;
      if (!keys.every((key) => shape[key] === other.shape![key])) continue;
      if (!best || keys.length > best.keys.size) best = { name, keys: new Set(keys) };
    }
    return best;
  }

  private object(
    schema: z.ZodType,
    io: Io,
    indent: string,
    skip?: Set<string>,
    widen?: Record<string, string>,
  ): string {
    const shape = defOf(schema).shape ?? {};
    for (const key of Object.keys(widen ?? {})) {
      if (!(key in shape)) throw new Error(`generate-types: widened key "${key}" is not a field.`);
    }
    const inner = `${indent}  `;
    const lines: string[] = [];
    for (const [key, field] of Object.entries(shape)) {
      if (skip?.has(key)) continue;
      const description = descriptionOf(field);
      if (description) lines.push(docComment(description, inner));
      const name = camelKey(key);
      const optional = this.isOptional(field, io);
      lines.push(
        `${inner}${IDENTIFIER.test(name) ? name : quote(name)}${optional ? '?' : ''}: ${widen?.[key] ?? this.type(field, io, inner)};`,
      );
    }
    return lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n${indent}}`;
  }

  private isOptional(schema: z.ZodType, io: Io): boolean {
    const def = defOf(schema);
    if (def.type === 'optional') return true;
    if (def.type === 'default' || def.type === 'prefault') return io === 'input';
    if (def.type === 'nullable' && def.innerType) return this.isOptional(def.innerType, io);
    return false;
  }

  private type(schema: z.ZodType, io: Io, indent: string, declaring = false): string {
    if (!declaring) {
      const name = this.named.get(schema);
      if (name) return name;
      const members = enumMembers(schema);
      if (members) {
        const named = this.specs.find((spec) => {
          const other = enumMembers(spec.schema);
          return other !== undefined && spec.name !== undefined && sameMembers(other, members);
        });
        if (named && this.named.has(named.schema)) return named.name;
      }
    }
    const def = defOf(schema);
    switch (def.type) {
      case 'string':
        return 'string';
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'unknown':
      case 'any':
        return 'unknown';
      case 'enum':
        return enumMembers(schema)!.join(' | ');
      case 'literal':
        return def.values!.map(quote).join(' | ');
      case 'optional':
      case 'default':
      case 'prefault':
        // Optionality is the key's `?`; the value type is the inner one.
        return this.type(def.innerType!, io, indent);
      case 'nullable':
        return `${this.type(def.innerType!, io, indent)} | null`;
      case 'readonly':
        return this.type(def.innerType!, io, indent);
      case 'pipe':
        return this.type(io === 'input' ? def.in! : def.out!, io, indent);
      case 'array': {
        const element = this.type(def.element!, io, indent);
        const wrapped = /[|&]/.test(element) ? `(${element})` : element;
        // Inputs accept `as const` arrays too.
        return io === 'input' ? `readonly ${wrapped}[]` : `${wrapped}[]`;
      }
      case 'record': {
        // A free-form map: its keys are the user's and are never case-converted.
        const key = this.type(def.keyType!, io, indent);
        const value = this.type(def.valueType!, io, indent);
        return `Record<${key}, ${value}>`;
      }
      case 'union':
        return def.options!.map((option) => this.type(option, io, indent)).join(' | ');
      case 'object':
        return this.object(schema, io, indent);
      default:
        throw new Error(
          `generate-types: no printer for zod type "${def.type}"; teach scripts/generate-types.ts.`,
        );
    }
  }
}

/** The text of `src/api-types.gen.ts`. */
export function generateTypes(): string {
  return new Printer(GENERATED_TYPES).file();
}

/** Where the generated file lives. */
export const GENERATED_FILE = fileURLToPath(new URL('../src/api-types.gen.ts', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(GENERATED_FILE, generateTypes());
  process.stdout.write(`wrote ${GENERATED_FILE}\n`);
}
