/** pipelines/schema.json and the key reference of pipelines/README.md, generated from the zod schema. */
import { builtSchema, z } from '../core/zod.js';
import { PipelineConfigSchema } from './schema.js';

/** The JSON Schema of a pipeline configuration (pipelines/schema.json). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(builtSchema(PipelineConfigSchema), { io: 'input' });
}

interface JsonSchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

function typeOf(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  const finite = (v: number | undefined) => (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined);
  const [lo, hi, above] = [finite(node.minimum), finite(node.maximum), finite(node.exclusiveMinimum)];
  const range = lo !== undefined && hi !== undefined ? ` in [${lo}, ${hi}]` : lo !== undefined ? ` ≥ ${lo}` : above !== undefined ? ` > ${above}` : hi !== undefined ? ` ≤ ${hi}` : '';
  return `${node.type ?? 'object'}${range}`;
}

/** A markdown table: key, type, default, meaning (and origin). */
export function configReference(): string {
  const rows: string[] = ['| key | type | default | meaning |', '|---|---|---|---|'];
  const walk = (node: JsonSchemaNode, prefix: string, required: boolean) => {
    const variants = node.oneOf ?? node.anyOf;
    if (variants && !node.properties) {
      rows.push(`| \`${prefix}\` | one of ${variants.length} forms | ${node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``} | ${node.description ?? ''} |`);
      variants.forEach((v) => walk(v, prefix, false));
      return;
    }
    if (node.properties) {
      if (prefix && node.description) rows.push(`| \`${prefix}\` | object | ${required ? 'required' : ''} | ${node.description} |`);
      for (const [key, child] of Object.entries(node.properties)) walk(child, prefix ? `${prefix}.${key}` : key, node.required?.includes(key) ?? false);
      return;
    }
    const dflt = node.default === undefined ? (required ? 'required' : '') : `\`${JSON.stringify(node.default)}\``;
    rows.push(`| \`${prefix}\` | ${typeOf(node)} | ${dflt} | ${node.description ?? ''} |`);
  };
  walk(configJsonSchema() as JsonSchemaNode, '', true);
  return rows.join('\n');
}
