/**
 * Writes `src/wire.gen.ts`: the wire types of `@hookline/api` (`z.output` of answers, `z.input`
 * of requests) expanded into plain object types. The published declarations then stand alone:
 * neither zod nor the private `@hookline/api` is needed to use `@hookline/react`'s types.
 *
 *   pnpm --filter @hookline/react generate:types          # rewrite the file
 *   pnpm --filter @hookline/react generate:types --check  # exit 1 when it is stale
 *
 * `src/wire.test.ts` fails when the file is stale, and `src/wire-types.test-d.ts` makes the
 * typecheck prove each generated type equal to its schema's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** One generated type: its name, which side of the schema it takes, the schema, its TSDoc. */
export interface WireTypeSpec {
  name: string;
  side: 'output' | 'input';
  schema: string;
  doc: string;
}

/** Every generated type, in file order. */
export const WIRE_TYPES: readonly WireTypeSpec[] = [
  {
    name: 'EndpointStatus',
    side: 'output',
    schema: 'endpointStatusSchema',
    doc: 'Endpoint status.',
  },
  {
    name: 'EndpointDisabledReason',
    side: 'output',
    schema: 'endpointDisabledReasonSchema',
    doc: 'Why an endpoint is disabled: manual, gone (it answered 410) or failing.',
  },
  {
    name: 'Signing',
    side: 'output',
    schema: 'signingSchema',
    doc: 'Signature scheme of an endpoint.',
  },
  {
    name: 'DeliveryStatus',
    side: 'output',
    schema: 'deliveryStatusSchema',
    doc: 'Delivery status.',
  },
  {
    name: 'AttemptOutcome',
    side: 'output',
    schema: 'attemptOutcomeSchema',
    doc: 'How an attempt ended.',
  },
  {
    name: 'AttemptTrigger',
    side: 'output',
    schema: 'attemptTriggerSchema',
    doc: 'What started an attempt.',
  },
  {
    name: 'Health',
    side: 'output',
    schema: 'healthSchema',
    doc: 'Endpoint health from the recent failure rate.',
  },
  { name: 'StatsWindow', side: 'output', schema: 'statsWindowSchema', doc: 'A stats window.' },
  {
    name: 'Endpoint',
    side: 'output',
    schema: 'endpointSchema',
    doc: 'The endpoint object (everything but the secret).',
  },
  {
    name: 'EndpointWithSecret',
    side: 'output',
    schema: 'endpointWithSecretSchema',
    doc: '`POST /v1/endpoints` answer: the endpoint with its secret, shown only this once.',
  },
  {
    name: 'EndpointListResponse',
    side: 'output',
    schema: 'endpointListResponseSchema',
    doc: '`GET /v1/endpoints` answer.',
  },
  {
    name: 'EndpointStats',
    side: 'output',
    schema: 'endpointStatsSchema',
    doc: '`GET /v1/endpoints/{id}/stats` answer.',
  },
  {
    name: 'EndpointRotateSecretResponse',
    side: 'output',
    schema: 'endpointRotateSecretResponseSchema',
    doc: '`POST /v1/endpoints/{id}/rotate-secret` answer: the new secret, shown only this once.',
  },
  {
    name: 'EndpointRecoverResponse',
    side: 'output',
    schema: 'endpointRecoverResponseSchema',
    doc: '`POST /v1/endpoints/{id}/recover` answer.',
  },
  {
    name: 'AttemptSummary',
    side: 'output',
    schema: 'attemptSummarySchema',
    doc: 'An attempt without headers and bodies.',
  },
  {
    name: 'Attempt',
    side: 'output',
    schema: 'attemptSchema',
    doc: 'One HTTP request to the endpoint with its full outcome.',
  },
  {
    name: 'Delivery',
    side: 'output',
    schema: 'deliverySchema',
    doc: 'The delivery object: one message × one endpoint.',
  },
  {
    name: 'DeliveryWithAttempts',
    side: 'output',
    schema: 'deliveryWithAttemptsSchema',
    doc: '`GET /v1/deliveries/{id}` answer: the delivery with every attempt, oldest first.',
  },
  {
    name: 'DeliveryListResponse',
    side: 'output',
    schema: 'deliveryListResponseSchema',
    doc: '`GET /v1/deliveries` answer.',
  },
  {
    name: 'EventType',
    side: 'output',
    schema: 'eventTypeSchema',
    doc: 'An event type of the catalog.',
  },
  {
    name: 'EventTypeListResponse',
    side: 'output',
    schema: 'eventTypeListResponseSchema',
    doc: '`GET /v1/event-types` answer.',
  },
  {
    name: 'AlertChannels',
    side: 'output',
    schema: 'alertChannelsSchema',
    doc: "A tenant's alert channels.",
  },
  {
    name: 'ErrorDetail',
    side: 'output',
    schema: 'errorDetailSchema',
    doc: 'One bad field of a 400.',
  },
  {
    name: 'ErrorBody',
    side: 'output',
    schema: 'errorBodySchema',
    doc: 'Every error answer of the gateway.',
  },
  {
    name: 'EndpointCreateRequest',
    side: 'input',
    schema: 'endpointCreateRequestSchema',
    doc: '`POST /v1/endpoints` body.',
  },
  {
    name: 'EndpointPatchRequest',
    side: 'input',
    schema: 'endpointPatchRequestSchema',
    doc: '`PATCH /v1/endpoints/{id}` body.',
  },
  {
    name: 'EndpointRotateSecretRequest',
    side: 'input',
    schema: 'endpointRotateSecretRequestSchema',
    doc: '`POST /v1/endpoints/{id}/rotate-secret` body.',
  },
  {
    name: 'EndpointTestRequest',
    side: 'input',
    schema: 'endpointTestRequestSchema',
    doc: '`POST /v1/endpoints/{id}/test` body.',
  },
  {
    name: 'EndpointRecoverRequest',
    side: 'input',
    schema: 'endpointRecoverRequestSchema',
    doc: '`POST /v1/endpoints/{id}/recover` body.',
  },
  {
    name: 'EndpointListQuery',
    side: 'input',
    schema: 'endpointListQuerySchema',
    doc: '`GET /v1/endpoints` query.',
  },
  {
    name: 'DeliveryListQuery',
    side: 'input',
    schema: 'deliveryListQuerySchema',
    doc: '`GET /v1/deliveries` query.',
  },
  {
    name: 'EventTypeListQuery',
    side: 'input',
    schema: 'eventTypeListQuerySchema',
    doc: '`GET /v1/event-types` query.',
  },
  {
    name: 'AlertChannelsPutRequest',
    side: 'input',
    schema: 'alertChannelsPutRequestSchema',
    doc: '`PUT /v1/tenants/{tenant_id}/alert-channels` body.',
  },
];

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the generated file lives. */
export const WIRE_FILE = join(PACKAGE_DIR, 'src', 'wire.gen.ts');

// Expands nested aliases (zod's inferred object types) into plain structures, member by member.
const EXPAND = `type Expand<T> = T extends string | number | boolean | bigint | symbol | null | undefined
  ? T
  : T extends readonly (infer Item)[]
    ? Expand<Item>[]
    : T extends object
      ? { [K in keyof T]: Expand<T[K]> }
      : T;`;

/** The generated file's text. */
export function generateWireTypes(): string {
  const virtualFile = join(PACKAGE_DIR, 'scripts', '__wire_source__.ts');
  const source = [
    "import type { z } from 'zod';",
    "import type * as api from '@hookline/api';",
    EXPAND,
    ...WIRE_TYPES.map(
      (spec) => `export type ${spec.name} = Expand<z.${spec.side}<typeof api.${spec.schema}>>;`,
    ),
  ].join('\n');

  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    customConditions: ['@hookline/source'],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (file === virtualFile ? source : readFile(file));
  host.fileExists = (
    (exists) => (file: string) =>
      file === virtualFile || exists(file)
  )(host.fileExists.bind(host));
  host.getSourceFile = (file, language, onError, shouldCreate) =>
    file === virtualFile
      ? ts.createSourceFile(file, source, language, true)
      : getSourceFile(file, language, onError, shouldCreate);

  const program = ts.createProgram([virtualFile], options, host);
  const problems = ts.getPreEmitDiagnostics(program, program.getSourceFile(virtualFile));
  if (problems.length > 0) {
    throw new Error(ts.formatDiagnostics(problems, host));
  }
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(virtualFile)!;
  const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
  const flags =
    ts.NodeBuilderFlags.NoTruncation |
    ts.NodeBuilderFlags.InTypeAlias |
    ts.NodeBuilderFlags.MultilineObjectLiterals |
    ts.NodeBuilderFlags.UseSingleQuotesForStringLiteralType;

  const blocks: string[] = [];
  for (const statement of file.statements) {
    if (!ts.isTypeAliasDeclaration(statement) || statement.name.text === 'Expand') continue;
    const spec = WIRE_TYPES.find((s) => s.name === statement.name.text)!;
    const type = checker.getTypeAtLocation(statement.name);
    const node = checker.typeToTypeNode(type, undefined, flags);
    if (!node) throw new Error(`Could not print the type ${spec.name}.`);
    const text = printer.printNode(ts.EmitHint.Unspecified, node, file);
    if (/\bz\.|\$Infer|\$Zod|Expand</.test(text)) {
      throw new Error(`${spec.name} did not expand into a plain type:\n${text}`);
    }
    const origin = `${spec.side === 'input' ? 'z.input' : 'z.output'}<typeof ${spec.schema}>`;
    blocks.push(
      `/** ${spec.doc} From \`${origin}\` of @hookline/api. */\nexport type ${spec.name} = ${indent(text)};`,
    );
  }

  return [
    '// Generated by scripts/generate-wire-types.ts from @hookline/api: do not edit.',
    '// Run `pnpm --filter @hookline/react generate:types` after changing the schemas.',
    '',
    blocks.join('\n\n'),
    '',
  ].join('\n');
}

function indent(text: string): string {
  // The printer indents with four spaces; the repository uses two.
  return text.replace(/^( {4})+/gm, (spaces) => ' '.repeat(spaces.length / 2));
}

function main(): void {
  const text = generateWireTypes();
  if (process.argv.includes('--check')) {
    const current = readFileSync(WIRE_FILE, 'utf8');
    if (current !== text) {
      process.stderr.write(
        `${WIRE_FILE} is stale: run "pnpm --filter @hookline/react generate:types".\n`,
      );
      process.exit(1);
    }
    return;
  }
  writeFileSync(WIRE_FILE, text);
  process.stdout.write(`wrote ${WIRE_FILE}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
