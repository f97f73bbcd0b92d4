import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type * as z from 'zod';

type Options = Parameters<StandardSchemaWithJSON['~standard']['jsonSchema']['input']>[0];

/**
 * The zod schema as the MCP SDK takes it (a Standard Schema), with its JSON Schema converted
 * once per process. The SDK converts a tool's schemas on every `tools/call` of a new server
 * (for the `Mcp-Param` header check and the result's projection), and this server builds a
 * new `McpServer` per request; without this, each call would pay for the conversions.
 * Validation is zod's own, unchanged.
 */
export function jsonSchemaOnce<S extends z.ZodType>(
  schema: S,
): StandardSchemaWithJSON<z.input<S>, z.output<S>> {
  const standard = schema['~standard'] as StandardSchemaWithJSON<
    z.input<S>,
    z.output<S>
  >['~standard'];
  const converted = new Map<string, Record<string, unknown>>();
  const convert = (io: 'input' | 'output', options: Options) => {
    const key = `${io} ${options.target} ${JSON.stringify(options.libraryOptions ?? {})}`;
    let json = converted.get(key);
    if (!json) {
      json = standard.jsonSchema[io](options);
      converted.set(key, json);
    }
    return json;
  };
  return {
    '~standard': {
      ...standard,
      jsonSchema: {
        input: (options) => convert('input', options),
        output: (options) => convert('output', options),
      },
    },
  };
}
